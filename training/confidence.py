"""How well word confidences separate right from wrong words: ROC AUC, a reliability plot, a flag threshold."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from rapidfuzz.distance import Levenshtein


def right_words(truth: str, predicted: list[str]) -> list[bool]:
    """For each predicted word: is it aligned (word-level edit distance) to an identical truth word?"""
    ok = [False] * len(predicted)
    for tag, _, _, p0, p1 in Levenshtein.opcodes(truth.split(), predicted):
        if tag == "equal":
            ok[int(p0):int(p1)] = [True] * (int(p1) - int(p0))
    return ok


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve: the chance a random positive scores above a random negative (ties count half)."""
    pos, neg = scores[positive], scores[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([pos, neg])[order]
    # average ranks over ties
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        ranks[order[i: j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


@dataclass
class Flagging:
    """What flagging the words below ``threshold`` does on validation data."""

    threshold: float
    precision: float  # share of flagged words that are wrong
    recall: float  # share of wrong words that are flagged
    flagged_share: float  # share of all words that are flagged


def flagging(conf: np.ndarray, right: np.ndarray, threshold: float) -> Flagging:
    """Precision/recall of "confidence < threshold" as a detector of wrong words."""
    flagged = conf < threshold
    wrong = ~right
    precision = float((flagged & wrong).sum() / max(1, flagged.sum()))
    recall = float((flagged & wrong).sum() / max(1, wrong.sum()))
    return Flagging(float(threshold), precision, recall, float(flagged.mean()) if len(conf) else 0.0)


def flag_counts(truths: list[str], words: list[list[tuple[str, float]]], threshold: float) -> dict[str, object]:
    """Word flags as the app shows them: each read word (text, confidence) right or wrong (``right_words``) and
    flagged below ``threshold``; with the counts, so that sets can be pooled."""
    ok = np.array([r for t, ws in zip(truths, words) for r in right_words(t, [w for w, _ in ws])], dtype=bool)
    conf = np.array([c for ws in words for _, c in ws], dtype=float)
    f = flagging(conf, ok, threshold)
    return {"threshold": threshold, "words": int(len(ok)), "wrong": int((~ok).sum()),
            "flagged": int((conf < threshold).sum()), "flagged_and_wrong": int(((conf < threshold) & ~ok).sum()),
            "flagged_wrong": round(f.precision, 4), "wrong_flagged": round(f.recall, 4),
            "auc": round(roc_auc(conf, ok), 4)}


def choose_threshold(conf: np.ndarray, right: np.ndarray) -> Flagging:
    """The threshold that maximises min(precision, recall) of flagging wrong words (both aimed at >= 70 %)."""
    candidates = np.unique(np.round(np.concatenate([conf, [0.0, 1.0 + 1e-9]]), 3))
    best = flagging(conf, right, 0.5)
    for t in candidates:
        f = flagging(conf, right, float(t))
        if min(f.precision, f.recall) > min(best.precision, best.recall):
            best = f
    return best


def reliability(conf: np.ndarray, right: np.ndarray, bins: int = 10) -> list[tuple[float, float, int]]:
    """Per confidence bin: mean confidence, share of right words, number of words."""
    edges = np.linspace(0, 1, bins + 1)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (conf >= lo) & ((conf < hi) if hi < 1 else (conf <= hi))
        if sel.any():
            rows.append((float(conf[sel].mean()), float(right[sel].mean()), int(sel.sum())))
    return rows


def plot_reliability(path: Path, curves: dict[str, list[tuple[float, float, int]]], threshold: float,
                     title: str) -> None:
    """A PNG: share of right words against confidence per bin (one curve per set), the diagonal and the threshold."""
    size, margin = 520, 60
    img = np.full((size + 2 * margin, size + 2 * margin + 150, 3), 255, np.uint8)

    def xy(x: float, y: float) -> tuple[int, int]:
        return int(margin + x * size), int(margin + (1 - y) * size)

    for k in range(11):
        v = k / 10
        cv2.line(img, xy(v, 0), xy(v, 1), (235, 235, 235), 1)
        cv2.line(img, xy(0, v), xy(1, v), (235, 235, 235), 1)
        cv2.putText(img, f"{v:.1f}", (xy(v, 0)[0] - 10, xy(v, 0)[1] + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0))
        cv2.putText(img, f"{v:.1f}", (xy(0, v)[0] - 35, xy(0, v)[1] + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0))
    cv2.rectangle(img, xy(0, 1), xy(1, 0), (0, 0, 0), 1)
    cv2.line(img, xy(0, 0), xy(1, 1), (150, 150, 150), 1, cv2.LINE_AA)
    cv2.line(img, xy(threshold, 0), xy(threshold, 1), (0, 0, 200), 1, cv2.LINE_AA)
    cv2.putText(img, f"flag < {threshold:.2f}", (xy(threshold, 1)[0] + 4, xy(0, 1)[1] + 14),
                cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 200))
    colours = [(180, 90, 20), (30, 140, 30), (20, 20, 180), (120, 40, 140)]
    for i, (name, rows) in enumerate(curves.items()):
        colour = colours[i % len(colours)]
        points = [xy(c, a) for c, a, _ in rows]
        for a, b in zip(points, points[1:]):
            cv2.line(img, a, b, colour, 2, cv2.LINE_AA)
        total = sum(n for _, _, n in rows) or 1
        for (_, _, n), p in zip(rows, points):
            cv2.circle(img, p, 3 + int(12 * (n / total) ** 0.5), colour, 1, cv2.LINE_AA)
        cv2.putText(img, name, (margin + size + 15, margin + 20 + 22 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1)
    cv2.putText(img, title, (margin, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, "word confidence", (margin + size // 2 - 60, size + 2 * margin - 15),
                cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, "share right", (5, margin - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, iterations: int = 30) -> np.ndarray:
    """Weights (bias first) of an L2-regularised logistic regression of ``y`` on ``x``, by Newton's method."""
    design = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(design.shape[1])
    reg = l2 * np.eye(len(w))
    reg[0, 0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -30, 30)))
        grad = design.T @ (p - y) + reg @ w
        hess = design.T @ (design * (p * (1 - p))[:, None]) + reg + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def predict_logistic(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Probabilities from ``fit_logistic`` weights."""
    return 1.0 / (1.0 + np.exp(-np.clip(w[0] + x @ w[1:], -30, 30)))


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int = 5) -> np.ndarray:
    """Each word's probability from a model fitted without its line's fold (an honest estimate)."""
    fold = groups % folds
    out = np.zeros(len(y))
    for k in range(folds):
        test = fold == k
        if test.any() and (~test).any():
            out[test] = predict_logistic(fit_logistic(x[~test], y[~test]), x[test])
    return out


def nested_flagging(x: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold confidences and, per word, a threshold chosen without its fold: for each fold, the threshold
    ``choose_threshold`` picks on the out-of-fold confidences of the other folds' words (inner folds by line too),
    and the model fitted on all of them scores the fold. Returns (confidences, thresholds)."""
    fold = groups % folds
    conf, thresholds = np.zeros(len(y)), np.zeros(len(y))
    for k in range(folds):
        test = fold == k
        if not test.any() or not (~test).any():
            continue
        inner = out_of_fold(x[~test], y[~test], groups[~test] // folds, folds)
        thresholds[test] = choose_threshold(inner, y[~test].astype(bool)).threshold
        conf[test] = predict_logistic(fit_logistic(x[~test], y[~test]), x[test])
    return conf, thresholds


def nested_threshold(conf: np.ndarray, right: np.ndarray, groups: np.ndarray, folds: int = 5) -> Flagging:
    """Flag figures with each word's threshold chosen (``choose_threshold``) on the words of the other folds (folds
    by line, ``groups``): how a threshold chosen on such words does on words it was not chosen on."""
    fold = groups % folds
    thresholds = np.zeros(len(conf))
    for k in range(folds):
        test = fold == k
        if test.any() and (~test).any():
            thresholds[test] = choose_threshold(conf[~test], right[~test]).threshold
    return flagging_at(conf, right, thresholds)


def flagging_at(conf: np.ndarray, right: np.ndarray, thresholds: np.ndarray) -> Flagging:
    """Like ``flagging``, with a threshold per word (``nested_flagging``); ``threshold`` is their mean."""
    flagged = conf < thresholds
    wrong = ~right
    precision = float((flagged & wrong).sum() / max(1, flagged.sum()))
    recall = float((flagged & wrong).sum() / max(1, wrong.sum()))
    return Flagging(float(thresholds.mean()) if len(conf) else 0.0, precision, recall,
                    float(flagged.mean()) if len(conf) else 0.0)
