"""Tune and compare the decoders on the validation sets, measure word confidences, record the winner.

``python -m training tune-decoder [--model resources/model] [--apply]`` runs the network once over the held-back
IAM lines and the 500 held-back names (``training/validation.py``), then: greedy; beam; beam + character LM
(LM weight grid); beam + LM + word list (weight grid); beam size against the time budget; word-confidence
ROC AUC, reliability plot and flag threshold. It writes ``docs/decoding.md`` and
``docs/confidence-reliability.png``; ``--apply`` stores the tuned configuration in the bundle's ``model.json``.
Only ever run it on the held-back validation data named above.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from model.beam import FEATURES, BeamDecoder, word_confidence
from model.bundle import read_info, write_info
from model.decode import greedy_decode, softmax
from model.decoder_config import DECODERS, DecoderConfig
from model.recognizer import Recognizer
from training.confidence import (
    choose_threshold,
    fit_logistic,
    flagging,
    flagging_at,
    nested_flagging,
    nested_threshold,
    out_of_fold,
    plot_reliability,
    reliability,
    right_words,
    roc_auc,
)
from training.datasets import Sample
from training.metrics import score
from training.validation import SETS, ValidationSet, compute, font_samples, load_sets, readable

log = logging.getLogger(__name__)

#: The word-confidence features of model 0.6.1 and older (compared in the docs).
FIRST_FEATURES = FEATURES[:8]

BUDGET_MS = 2.0  # decoding time allowed per line (docs/benchmarks.md measures it)
BEAMS = ((12, 4, 8.0), (16, 5, 5.0), (20, 5, 5.0), (16, 5, 8.0), (20, 5, 6.0), (24, 5, 6.0))
LM_WEIGHTS = (0.3, 0.6, 0.9, 1.2, 1.5, 1.8)
CAPS_LM_WEIGHTS = (0.0, 0.15, 0.3, 0.6, 0.9)  # for lines mostly in capitals (names)
SPACE_SCORES = (0.0, 1.0)
WORD_WEIGHTS = ((0.1, -18.0), (0.2, -14.0), (0.2, -18.0), (0.3, -18.0), (0.3, -22.0), (0.5, -18.0))
TEMPERATURES = (0.5, 1.0, 2.0, 4.0)


@dataclass
class Run:
    """One decoder configuration over the validation sets."""

    config: DecoderConfig
    cer: dict[str, float]
    wer: dict[str, float]
    ms: float  # CPU milliseconds per line to decode (median over the IAM lines)
    words: dict[str, list[tuple[int, np.ndarray, bool]]]  # per set: (line, confidence features, right) per word
    preds: dict[str, list[str]]  # per set: the text read from each crop

    def objective(self, reference: Run) -> float:
        """Mean CER relative to the reference's (greedy's) over the sets: each set counts the same."""
        return float(np.mean([v / max(reference.cer[k], 1e-6) for k, v in self.cer.items()]))


def run(config: DecoderConfig, folder: Path, sets: list[ValidationSet], beam: BeamDecoder | None = None,
        temperature: float | None = None, timed: bool = True) -> Run:
    """Decode every crop of every set with ``config``."""
    charset = read_info(folder).charset
    if config.uses_beam and beam is None:
        beam = BeamDecoder(charset, config, folder)
    cer, wer, words, texts = {}, {}, {}, {}
    for vset in sets:
        preds, evidence = [], []
        for line, (truth, out) in enumerate(zip(vset.truths, vset.outputs)):
            if out is None:
                preds.append("")
                continue
            if beam is None:
                decoded = greedy_decode(softmax(out), charset)
                found = [np.array([0.0, np.log(max(w.confidence, 1e-6))] + [0.0] * (len(FEATURES) - 2))
                         for w in decoded.words]
            else:
                search = beam.search(out)
                decoded = beam.reading(search, temperature)
                found = [e.features for e in beam.evidence(search, temperature)]
            preds.append(decoded.text)
            ok = right_words(vset.fold(truth), [vset.fold(w.text) for w in decoded.words])
            evidence += [(line, f, r) for f, r in zip(found, ok)]
        s = score([vset.fold(t) for t in vset.truths], [vset.fold(p) for p in preds])
        cer[vset.name], wer[vset.name], words[vset.name], texts[vset.name] = s.cer, s.wer, evidence, preds
    iam = [s for s in sets if s.name == "iam"] or sets
    ms = decode_ms(charset, iam[0].outputs, beam) if timed else float("nan")
    return Run(config, cer, wer, ms, words, texts)


def decode_ms(charset: object, outputs: list[np.ndarray | None], beam: BeamDecoder | None, repeats: int = 3) -> float:
    """CPU milliseconds to decode a line (with n-best words and confidences): median over lines of the best of
    ``repeats`` (the least disturbed by other processes)."""
    best = []
    for out in outputs:
        if out is None:
            continue
        times = []
        for _ in range(repeats):
            start = time.process_time()
            if beam is None:
                greedy_decode(softmax(out), charset)  # type: ignore[arg-type]
            else:
                beam.decode(out)
            times.append(time.process_time() - start)
        best.append(1000 * min(times))
    return float(np.median(best)) if best else 0.0


def best(runs: list[Run], reference: Run, budget: float | None = None) -> Run:
    """The run with the lowest relative CER within the time budget (if none meets it: the fastest)."""
    fitting = [r for r in runs if budget is None or r.ms <= budget]
    if not fitting:
        return min(runs, key=lambda r: r.ms)
    return min(fitting, key=lambda r: r.objective(reference))


def tune(folder: Path, sets: list[ValidationSet], base: DecoderConfig) -> dict[str, Run]:
    """The tuned run of every decoder."""
    out: dict[str, Run] = {"greedy": run(replace(base, name="greedy"), folder, sets)}
    beam0 = replace(base, name="beam", beam_width=BEAMS[1][0], token_beam=BEAMS[1][1], beam_threshold=BEAMS[1][2],
                    caps_lm_weight=CAPS_LM_WEIGHTS[2])
    lm_runs = [run(replace(beam0, name="beam+lm", lm_weight=w, space_score=s), folder, sets, timed=False)
               for w in LM_WEIGHTS for s in SPACE_SCORES]
    for r in lm_runs:
        log.info("beam+lm w=%.2f space=%.1f: %s", r.config.lm_weight, r.config.space_score, _fmt(r))
    lm_best = best(lm_runs, out["greedy"]).config
    caps_runs = [run(replace(lm_best, caps_lm_weight=w), folder, sets, timed=False) for w in CAPS_LM_WEIGHTS]
    for r in caps_runs:
        log.info("beam+lm capitals w=%.2f: %s", r.config.caps_lm_weight, _fmt(r))
    lm_best = best(caps_runs, out["greedy"]).config
    sized = [run(replace(lm_best, beam_width=b, token_beam=k, beam_threshold=t), folder, sets) for b, k, t in BEAMS]
    for r in sized:
        log.info("beam+lm beam=%d/%d/%.0f: %s", r.config.beam_width, r.config.token_beam, r.config.beam_threshold,
                 _fmt(r))
    out["beam+lm"] = best(sized, out["greedy"], budget=0.8 * BUDGET_MS)  # a margin: timings vary with the load
    fast = out["beam+lm"].config
    out["beam"] = run(replace(fast, name="beam"), folder, sets)
    word_runs = [run(replace(fast, name="beam+lm+words", words_weight=w, words_unknown=u), folder, sets, timed=False)
                 for w, u in WORD_WEIGHTS]
    for r in word_runs:
        log.info("beam+lm+words w=%.2f unk=%.0f: %s", r.config.words_weight, r.config.words_unknown, _fmt(r))
    words_best = best(word_runs, out["greedy"]).config
    scored = run(replace(words_best, words_skip_capitals=False), folder, sets, timed=False)  # names scored too?
    log.info("beam+lm+words scoring capitals too: %s", _fmt(scored))
    words_best = best([next(r for r in word_runs if r.config == words_best), scored], out["greedy"]).config
    out["beam+lm+words"] = run(words_best, folder, sets)  # timed
    return out


def _fmt(r: Run) -> str:
    return " ".join(f"{k} CER {v:.4f} WER {r.wer[k]:.4f}" for k, v in r.cer.items()) + f" {r.ms:.2f} ms"


def confidence_report(folder: Path, sets: list[ValidationSet], winner: Run, docs: Path | None
                      ) -> tuple[float, tuple[float, ...] | None, float, dict[str, object]]:
    """Fit the word-confidence model (logistic, on ``model.beam.FEATURES``), pick the n-best temperature by
    cross-validated ROC AUC, choose the flag threshold, plot reliability.

    Returns (temperature, weights, threshold, facts); the figures are out-of-fold (5 folds by line), and the
    "nested" flag figures also choose each fold's threshold without that fold.
    """
    runs = {t: winner if t == winner.config.nbest_temperature
            else run(winner.config, folder, sets, temperature=t, timed=False)
            for t in TEMPERATURES} if winner.config.uses_beam else {1.0: winner}

    def arrays(r: Run) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        rows = [(i * 100_003 + line, f, ok) for i, (_, ws) in enumerate(r.words.items()) for line, f, ok in ws]
        names = np.array([k for k, ws in r.words.items() for _ in ws])
        return (np.array([g for g, _, _ in rows]), np.array([f for _, f, _ in rows]),
                np.array([ok for _, _, ok in rows], dtype=bool), names)

    fitted = {}
    for t, r in runs.items():
        groups, x, ok, names = arrays(r)
        fitted[t] = (out_of_fold(x, ok.astype(float), groups), x, ok, names, groups)
    aucs = {t: roc_auc(v[0], v[2]) for t, v in fitted.items()}
    temperature = max(aucs, key=lambda t: aucs[t])
    conf, x, ok, names, groups = fitted[temperature]
    weights = tuple(round(float(w), 4) for w in fit_logistic(x, ok.astype(float))) if winner.config.uses_beam else None
    baseline = np.array([word_confidence(f) for f in x])
    flag = choose_threshold(conf, ok)  # the app's threshold: chosen on the out-of-fold confidences of all words
    nested_conf, nested_thresholds = nested_flagging(x, ok.astype(float), groups)
    nested = flagging_at(nested_conf, ok, nested_thresholds)
    first = len(FIRST_FEATURES)  # the features of model 0.6.1 and older, for comparison
    facts: dict[str, object] = {
        "temperature": temperature, "auc_by_temperature": {str(t): round(v, 4) for t, v in aucs.items()},
        "words": int(len(ok)), "wrong_words": int((~ok).sum()), "auc": round(roc_auc(conf, ok), 4),
        "auc_first_features": round(roc_auc(out_of_fold(x[:, :first], ok.astype(float), groups), ok), 4),
        "auc_agreement_times_characters": round(roc_auc(baseline, ok), 4),
        "auc_agreement_only": round(roc_auc(x[:, 0], ok), 4),
        "auc_character_confidence_only": round(roc_auc(x[:, 1], ok), 4),
        "weights": dict(zip(("bias", *FEATURES), weights or ())),
        "threshold": round(flag.threshold, 3), "flag_precision": round(flag.precision, 3),
        "flag_recall": round(flag.recall, 3), "flagged_share": round(flag.flagged_share, 3),
        "nested_flag_precision": round(nested.precision, 3), "nested_flag_recall": round(nested.recall, 3),
        "nested_thresholds": sorted({round(float(v), 3) for v in nested_thresholds}), "per_set": {},
    }
    curves = {}
    for vset in sets:
        sel = names == vset.name
        c, k = conf[sel], ok[sel]
        f = flagging(c, k, flag.threshold)
        n = flagging_at(nested_conf[sel], k, nested_thresholds[sel])
        facts["per_set"][vset.name] = {  # type: ignore[index]
            "words": int(len(k)), "wrong": int((~k).sum()), "auc": round(roc_auc(c, k), 4),
            "flag_precision": round(f.precision, 3), "flag_recall": round(f.recall, 3),
            "nested_flag_precision": round(n.precision, 3), "nested_flag_recall": round(n.recall, 3)}
        curves[f"{vset.name} (AUC {roc_auc(c, k):.2f})"] = reliability(c, k)
    if docs is not None:
        plot_reliability(docs / "confidence-reliability.png", curves, flag.threshold,
                         f"Word confidence vs share right ({winner.config.name}), out-of-fold")
    return temperature, weights, flag.threshold, facts


def app_flags(rec: Recognizer, fit: list[tuple[list[Sample], bool]]) -> dict[str, object]:
    """The flag threshold chosen on the app's own reading of the sets ``fit`` (samples, case-sensitive), as
    ``choose_threshold`` chooses it: each line read by ``rec.recognize``, so that a densely written line is read
    again wider and its two readings merged word by word, which moves those words' confidences. With its figures
    and the nested ones (each fold of lines flagged at a threshold chosen on the other folds)."""
    conf: list[float] = []
    ok: list[bool] = []
    groups: list[int] = []
    line = 0
    for samples, case_sensitive in fit:
        loaded = readable(samples)
        for (sample, _), pred in zip(loaded, rec.recognize([img for _, img in loaded])):
            fold = str if case_sensitive else str.upper
            right = right_words(fold(rec.info.charset.filter(sample.text)), [fold(w.text) for w in pred.words])
            ok += right
            conf += [w.confidence for w in pred.words]
            groups += [line] * len(right)
            line += 1
    c, k = np.array(conf, dtype=float), np.array(ok, dtype=bool)
    chosen, nested = choose_threshold(c, k), nested_threshold(c, k, np.array(groups, dtype=int))
    return {"threshold": round(chosen.threshold, 3), "words": int(len(k)), "wrong": int((~k).sum()),
            "flag_precision": round(chosen.precision, 3), "flag_recall": round(chosen.recall, 3),
            "flagged_share": round(chosen.flagged_share, 3), "nested_flag_precision": round(nested.precision, 3),
            "nested_flag_recall": round(nested.recall, 3)}


def fitted_confidences(folder: Path, sets: list[ValidationSet], winner: Run, fit: tuple[str, ...],
                       docs: Path | None, app: Callable[[DecoderConfig], dict[str, object]] | None = None
                       ) -> tuple[DecoderConfig, dict[str, object]]:
    """The winner's configuration with the confidence model and threshold fitted on the sets ``fit`` (the real
    handwriting), and the facts; the words of the other sets are scored with the fitted model (``"scored"``).

    ``app``, when given, reads those sets as the app does with the fitted configuration and chooses the threshold
    there (``app_flags``; ``"app"`` in the facts); otherwise the threshold is chosen on the lines read once."""
    fitted_run = replace(winner, words={k: v for k, v in winner.words.items() if k in fit})
    temperature, weights, threshold, conf = confidence_report(folder, [s for s in sets if s.name in fit],
                                                              fitted_run, docs)
    final = replace(winner.config, nbest_temperature=temperature, confidence_weights=weights,
                    confidence_features=FEATURES if weights else None, low_confidence=threshold)
    if app is not None and weights:
        conf["app"] = app(final)
        final = replace(final, low_confidence=conf["app"]["threshold"])  # type: ignore[index]
    others = [s for s in sets if s.name not in fit]
    if others:
        conf["scored"] = confidence_check(folder, others, final)
    return final, conf


def confidence_check(folder: Path, sets: list[ValidationSet], config: DecoderConfig) -> dict[str, object]:
    """How the fitted confidences and threshold do on sets that did not fit them (ROC AUC, flag shares): a --check
    set, which tuned nothing, or a set the decoder was tuned on but the confidences not fitted on."""
    out: dict[str, object] = {}
    for vset in sets:
        r = run(config, folder, [vset], timed=False)
        conf = np.array([word_confidence(f, config.confidence_weights, config.confidence_features)
                         for _, f, _ in r.words[vset.name]])
        ok = np.array([k for _, _, k in r.words[vset.name]], dtype=bool)
        f = flagging(conf, ok, config.low_confidence)
        out[vset.name] = {"words": int(len(ok)), "wrong": int((~ok).sum()), "auc": round(roc_auc(conf, ok), 4),
                          "flag_precision": round(f.precision, 3), "flag_recall": round(f.recall, 3)}
    return out


def names_check(folder: Path, sets: list[ValidationSet], runs: dict[str, Run]) -> dict[str, object] | None:
    """What the LM and the word list do to names: CER, and names read right before and wrong after (and back)."""
    names = next((s for s in sets if s.name == "names"), None)
    if names is None:
        return None
    only = [names]
    config = runs["beam+lm+words"].config  # the tuned word-list weights
    with_words = run(replace(config, name="beam+lm+words", words_skip_capitals=True), folder, only, timed=False)
    scored = run(replace(config, name="beam+lm+words", words_skip_capitals=False), folder, only, timed=False)
    steps = {"beam -> beam+lm": (runs["beam"], runs["beam+lm"]),
             "beam+lm -> beam+lm+words": (runs["beam+lm"], with_words),
             "beam+lm -> beam+lm+words scoring capitals too": (runs["beam+lm"], scored)}
    truths = [names.fold(t) for t in names.truths]
    changes = {}
    for label, (before, after) in steps.items():
        a = [names.fold(p) for p in before.preds["names"]]
        b = [names.fold(p) for p in after.preds["names"]]
        changes[label] = {"broken": sum(1 for t, x, y in zip(truths, a, b) if x == t != y),
                          "fixed": sum(1 for t, x, y in zip(truths, a, b) if x != t == y)}
    return {"skip_capitals": config.words_skip_capitals,
            "names_cer_capitals_left_alone": round(with_words.cer["names"], 4),
            "names_cer_capitals_scored_by_word_list": round(scored.cer["names"], 4), "changes": changes}


def write_doc(path: Path, runs: dict[str, Run], winner: str, conf: dict[str, object],
              names: dict[str, object] | None, model_version: str, sizes: dict[str, int],
              command: str = "python -m training tune-decoder --model resources/model --apply") -> None:
    """``docs/decoding.md``: the decoder table, the confidence figures and ``command``, which reproduces them."""
    sets = list(next(iter(runs.values())).cer)
    head = "| decoder | " + " | ".join(f"{s} CER | {s} WER" for s in sets) + " | decode ms/line (CPU) |"
    lines = [
        "# Decoding: beam search, character language model, word list, confidences", "",
        f"Generated by `{command}` for model `{model_version}`. Validation sets: `iam` = {sizes.get('iam', 0)} "
        "lines of the held-back IAM groups "
        "d05 g04 m03 n03 p01 (case-sensitive); `names` = the held-back Kaggle name crops TRAIN_10001-10500 "
        f"({sizes.get('names', 0)} with a readable label; case-insensitive, printed field labels are not in the "
        "labels)" + (f"; `fonts` = {sizes['fonts']} lines in the @fontsource fonts held out of training "
                     "(`training.fonts.VALIDATION_FAMILIES`; case-sensitive)" if "fonts" in sizes else "")
        + ". The same sets chose the decoder settings, so the figures are slightly optimistic.", "",
        head, "|" + "---|" * (2 * len(sets) + 2)]
    for name in DECODERS:
        r = runs.get(name)
        if r is None:
            continue
        cells = " | ".join(f"{100 * r.cer[s]:.1f} % | {100 * r.wer[s]:.1f} %" for s in sets)
        label = f"**{name} (default)**" if name == winner else name
        lines.append(f"| {label} | {cells} | {r.ms:.2f} |")
    c = runs[winner].config
    lines += [
        "", f"Tuned settings: beam {c.beam_width}, {c.token_beam} characters per frame, threshold "
        f"{c.beam_threshold:g}; LM weight {c.lm_weight:g} (lines mostly in capitals: {c.caps_lm_weight}), "
        f"space score {c.space_score:g}; word list weight "
        f"{c.words_weight:g}, unknown word {c.words_unknown:g}.", "",
        "## Word confidences", "",
        "A word's confidence is a logistic model of features the decoder computes anyway or almost for free "
        "(`model.beam.FEATURES`): its n-best agreement (the posterior share of the n-best hypotheses that read the "
        "same word at the same place), its characters' confidences (mean and lowest, from the best path), its "
        "length, whether the word list has it, whether it is in block capitals, whether the greedy reading has it "
        "too, its LM probability per character; the network's doubt over its frames (highest and summed frame "
        "entropy) and over the gaps beside it (a missed or invented word boundary), whether a letter could be the "
        "other case (p(other case) / p(letter)), frames per character, how many distinct n-best readings the line "
        "has, whether the best other reading is in the word list; and, for lines mostly in capitals (names), "
        "separate weights for word-list membership, LM probability, length and the neighbouring words' lowest "
        "character confidence. The weights are fitted on the validation words and stored in `model.json` with "
        "the features' names. The figures below are out-of-fold (5 folds by line: each word scored by a model "
        "fitted without its line).", "",
        f"Over {conf['words']} words ({conf['wrong_words']} wrong) of the sets "
        f"{', '.join(conf['per_set'])} with `{winner}`: ROC AUC "  # type: ignore[arg-type]
        f"**{conf['auc']}** for right vs wrong words (the eight features of model 0.6.1 and older: "
        f"{conf['auc_first_features']}; agreement x sqrt(character confidence), unfitted: "
        f"{conf['auc_agreement_times_characters']}; agreement alone {conf['auc_agreement_only']}; character "
        f"confidences alone {conf['auc_character_confidence_only']}; n-best temperature {conf['temperature']}).",
        "",
        _threshold_text(conf) + f"{100 * float(conf['flag_precision']):.1f} % of flagged "  # type: ignore[arg-type]
        f"words are wrong and {100 * float(conf['flag_recall']):.1f} % of wrong words are flagged "  # type: ignore[arg-type]
        f"({100 * float(conf['flagged_share']):.0f} % of all words are flagged). "  # type: ignore[arg-type]
        "Choosing each fold's threshold without looking at that fold (on the out-of-fold confidences of the other "
        "folds) gives "
        f"{100 * float(conf['nested_flag_precision']):.1f} % and "  # type: ignore[arg-type]
        f"{100 * float(conf['nested_flag_recall']):.1f} % (the \"nested\" columns). The features were chosen on "  # type: ignore[arg-type]
        "these same words, so even these figures are slightly optimistic.", "",
        "| set | words | wrong | AUC | flagged that are wrong | wrong that are flagged | nested: flagged that are "
        "wrong | nested: wrong that are flagged |", "|---|---|---|---|---|---|---|---|"]
    for name, f in conf["per_set"].items():  # type: ignore[attr-defined]
        lines.append(f"| {name} | {f['words']} | {f['wrong']} | {f['auc']} | {100 * f['flag_precision']:.1f} % | "
                     f"{100 * f['flag_recall']:.1f} % | {100 * f['nested_flag_precision']:.1f} % | "
                     f"{100 * f['nested_flag_recall']:.1f} % |")
    for name, f in conf.get("scored", {}).items():  # type: ignore[attr-defined]
        lines.append(f"| {name} (decoder tuned on it, confidences not fitted on it) | {f['words']} | {f['wrong']} | "
                     f"{f['auc']} | {100 * f['flag_precision']:.1f} % | {100 * f['flag_recall']:.1f} % | | |")
    for name, f in conf.get("check", {}).items():  # type: ignore[attr-defined]
        lines.append(f"| {name} (check: never fitted on) | {f['words']} | {f['wrong']} | {f['auc']} | "
                     f"{100 * f['flag_precision']:.1f} % | {100 * f['flag_recall']:.1f} % | | |")
    if conf.get("scored"):
        lines += ["", "The confidence weights and the threshold are fitted on real handwriting only "
                  "(`--confidence-sets`, default `iam,names`: the app's flags are for handwriting); the rows that "
                  "say so score the words of the other sets the decoder was tuned on with the app's weights and "
                  "threshold."]
    if conf.get("check"):
        lines += ["", "A check row scores words of a set that neither fitted the weights, nor chose the features, "
                  "the threshold or the decoder settings, with the app's weights and threshold (`fonts`: 200 lines "
                  "in the held-out @fontsource fonts, `training.fonts.VALIDATION_FAMILIES`; rendered in handwriting "
                  "fonts, not written by hand, so its errors are of other kinds)."]
    lines += ["", "![Reliability: share of right words per confidence bin](confidence-reliability.png)", ""]
    if names:
        lines += ["## Names: not turned into dictionary words", "",
                  "With the case rule, `beam+lm+words` leaves words in block capitals (names, mostly) to the "
                  "pixels and the LM; tuning "
                  f"{'kept' if names['skip_capitals'] else 'dropped'} the rule. On the held-back names, CER "
                  f"with the rule {100 * float(names['names_cer_capitals_left_alone']):.1f} %, with the word list "  # type: ignore[arg-type]
                  f"scoring them too {100 * float(names['names_cer_capitals_scored_by_word_list']):.1f} %. Names read "  # type: ignore[arg-type]
                  "right before a step and wrong after it (broken), and the other way round (fixed):", "",
                  "| step | broken | fixed |", "|---|---|---|"]
        for label, c in names["changes"].items():  # type: ignore[attr-defined]
            lines.append(f"| {label} | {c['broken']} | {c['fixed']} |")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def _threshold_text(conf: dict[str, object]) -> str:
    """The sentence that says which threshold the app flags at and where it was chosen (ends before the figures of
    the lines read once)."""
    app = conf.get("app")
    if not isinstance(app, dict):
        return (f"The app flags words below **{conf['threshold']}** (the threshold that maximises the smaller of the "
                "two shares below on the out-of-fold confidences of all words): ")
    return (f"The app flags words below **{app['threshold']}**, the threshold that maximises the smaller of the two "
            f"shares in the app's own reading of these lines ({app['words']} words, {app['wrong']} wrong): each line "
            "read as `Recognizer.recognize` reads it, so that a densely written line is read again wider and its two "
            "readings merged word by word, which moves those words' confidences. There "
            f"{100 * app['flag_precision']:.1f} % of flagged words are wrong and {100 * app['flag_recall']:.1f} % "
            f"of wrong words are flagged ({100 * app['flagged_share']:.0f} % of all words are flagged); choosing "
            "the threshold for each fold of lines (5, by line) on the other folds gives "
            f"{100 * app['nested_flag_precision']:.1f} % and {100 * app['nested_flag_recall']:.1f} %. Read once "
            "at their plain width, as the weights are fitted, the best threshold would be "
            f"{conf['threshold']} (on the out-of-fold confidences of all words; the table below is at it): ")


def docs_folder(value: str) -> Path | None:
    """``--docs``: a folder, or None for '' (``Path('')`` would be the current folder)."""
    return Path(value) if value else None


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    p = argparse.ArgumentParser(prog="python -m training tune-decoder")
    p.add_argument("--model", type=Path, default=Path("resources/model"), help="bundle folder")
    p.add_argument("--sets", default="iam,names",
                   help="validation sets: iam, names, fonts (the held-out-font lines, which models are also chosen "
                   "on; then not a --check)")
    p.add_argument("--docs", type=docs_folder, default=Path("docs"),
                   help="where decoding.md and the plot go ('' = none)")
    p.add_argument("--apply", action="store_true", help="write the tuned configuration into the bundle's model.json")
    p.add_argument("--no-grid", action="store_true",
                   help="keep model.json's beam, LM and word-list settings; compare decoders and fit confidences only")
    p.add_argument("--confidence-sets", default="iam,names",
                   help="the sets the word-confidence model and the flag threshold are fitted on (default: the real "
                   "handwriting; the app's flags are for it); the other --sets are scored with the fitted weights")
    p.add_argument("--check", default="", help="'fonts': also score the fitted word confidences on lines in the "
                   "held-out fonts, never used for fitting or tuning (rendered once; needs npm the first time)")
    args = p.parse_args(argv)
    if "fonts" in args.sets.split(",") and "fonts" in args.check.split(","):
        p.error("the fonts cannot be both tuned on (--sets) and a check never used for tuning (--check)")
    folder = args.model
    rec = Recognizer.load(folder, decoder="greedy")
    sets = load_sets(rec, tuple(args.sets.split(",")))
    if not sets:
        raise SystemExit("no validation data found (see training/validation.py)")
    base = rec.info.decoder
    runs = ({name: run(base.with_name(name), folder, sets) for name in DECODERS} if args.no_grid
            else tune(folder, sets, base))
    winner = min(runs, key=lambda k: (runs[k].objective(runs["greedy"]), DECODERS.index(k)))
    fit = tuple(s for s in args.confidence_sets.split(",") if s in {v.name for v in sets})
    if not fit:
        p.error(f"--confidence-sets {args.confidence_sets!r} names none of --sets {args.sets!r}")

    def app(config: DecoderConfig) -> dict[str, object]:
        info = read_info(folder)
        info.decoder = config
        return app_flags(Recognizer(folder, info), [(SETS[n].samples(), SETS[n].case_sensitive) for n in fit])

    final, conf = fitted_confidences(folder, sets, runs[winner], fit, args.docs or None, app)
    names = names_check(folder, sets, runs)
    if "fonts" in args.check.split(","):
        conf["check"] = confidence_check(folder, [compute(rec, "fonts", font_samples(), True)], final)
    summary = {name: {"cer": {k: round(v, 4) for k, v in r.cer.items()},
                      "wer": {k: round(v, 4) for k, v in r.wer.items()}, "ms": round(r.ms, 3)}
               for name, r in runs.items()}
    print(json.dumps({"winner": winner, "decoders": summary, "confidence": conf, "names": names,
                      "config": final.to_json()}, indent=1))
    if args.docs:
        command = " ".join(["python -m training tune-decoder", *(argv if argv is not None else sys.argv[1:])])
        write_doc(args.docs / "decoding.md", runs, winner, conf, names, rec.version,
                  {s.name: len(s.truths) for s in sets}, command)
    if args.apply:
        info = read_info(folder)
        info.decoder = final
        info.figures["decoders_val_cer"] = {name: r["cer"] for name, r in summary.items()}  # details: docs/decoding.md
        keys = ("threshold", "flag_precision", "flag_recall", "nested_flag_precision", "nested_flag_recall")
        figures: dict[str, object] = {"auc": conf["auc"], **{k: conf[k] for k in keys}}
        read_by_app = conf.get("app")
        if isinstance(read_by_app, dict):  # the app's threshold and flags in its own reading; the read-once fit too
            figures = {"auc": conf["auc"], **{k: read_by_app[k] for k in keys}, "read_once": {k: conf[k] for k in keys},
                       "note": f"tune-decoder, confidences fitted on {','.join(fit)} read once at their plain width "
                       "(read_once: the threshold that fit would choose); threshold and flags: the app's own reading "
                       "of the same lines (long lines in pieces, dense lines read twice and merged), nested: each "
                       "fold of lines at a threshold chosen on the others"}
        info.figures["word_confidence"] = figures
        write_info(folder, info)
    return 0
