"""Text-recognition metrics (rapidfuzz): CER, WER, word accuracy, char P/R/F1, Jaro-Winkler."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rapidfuzz.distance import JaroWinkler, Levenshtein


def _norm(s: str) -> str:
    return " ".join(s.split())


def ref_length(truth: str) -> int:
    """Characters a truth counts for in the CER (whitespace-normalised, as ``score`` counts them)."""
    return len(_norm(truth))


def char_errors(truth: str, pred: str) -> int:
    """Levenshtein distance on whitespace-normalised strings."""
    return Levenshtein.distance(_norm(truth), _norm(pred))


def word_errors(truth: str, pred: str) -> int:
    """Word-level Levenshtein distance."""
    return Levenshtein.distance(_norm(truth).split(), _norm(pred).split())


@dataclass
class Scores:
    """Aggregate figures over a set of samples (rates in 0..1)."""

    cer: float
    wer: float
    word_accuracy: float
    line_accuracy: float
    char_precision: float
    char_recall: float
    char_f1: float
    jaro_winkler: float
    samples: int

    def as_dict(self) -> dict[str, float | int]:
        """Rounded figures for model.json and reports."""
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def score(truths: list[str], preds: list[str]) -> Scores:
    """Corpus-level scores: error counts summed over samples, divided by reference lengths."""
    ce = sum(char_errors(t, p) for t, p in zip(truths, preds))
    cl = sum(ref_length(t) for t in truths) or 1
    we = sum(word_errors(t, p) for t, p in zip(truths, preds))
    wl = sum(len(_norm(t).split()) for t in truths) or 1
    correct_words = total_words = 0
    tp = pred_chars = true_chars = 0
    for t, p in zip(truths, preds):
        tw, pw = _norm(t).split(), _norm(p).split()
        total_words += len(tw)
        correct_words += sum((Counter(tw) & Counter(pw)).values())
        tc, pc = Counter(_norm(t).replace(" ", "")), Counter(_norm(p).replace(" ", ""))
        tp += sum((tc & pc).values())
        pred_chars += sum(pc.values())
        true_chars += sum(tc.values())
    precision = tp / pred_chars if pred_chars else 0.0
    recall = tp / true_chars if true_chars else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    n = len(truths) or 1
    return Scores(
        cer=ce / cl, wer=we / wl,
        word_accuracy=correct_words / (total_words or 1),
        line_accuracy=sum(_norm(t) == _norm(p) for t, p in zip(truths, preds)) / n,
        char_precision=precision, char_recall=recall, char_f1=f1,
        jaro_winkler=sum(JaroWinkler.similarity(_norm(t), _norm(p)) for t, p in zip(truths, preds)) / n,
        samples=len(truths),
    )
