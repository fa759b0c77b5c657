"""Pick the decoder on the validation set: greedy vs beam vs beam+lexicon (weight grid); optionally record it.

``python -m training tune-decoder --iam-gt GT --groups d05,g04,m03,n03,p01 [--model DIR] [--apply]``
Only ever run it on held-back groups of the allowed IAM groups.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from model.bundle import bundled_model_dir, read_info, write_info
from model.decode import beam_decode, greedy_decode, softmax
from model.imageio import load_image
from model.lexicon import Lexicon
from model.preprocess import pad_batch
from model.recognizer import Recognizer
from training.datasets import read_iam_gt, split_by_groups
from training.metrics import score


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    p = argparse.ArgumentParser(prog="python -m training tune-decoder")
    p.add_argument("--model", type=Path)
    p.add_argument("--iam-gt", required=True)
    p.add_argument("--groups", required=True)
    p.add_argument("--apply", action="store_true", help="write the winner into the bundle's model.json")
    args = p.parse_args(argv)
    rec = Recognizer.load(args.model, decoder="greedy")
    cs = rec.info.charset
    samples = split_by_groups(read_iam_gt(Path(args.iam_gt).expanduser()), args.groups.split(","))
    truths = [cs.filter(s.text) for s in samples]
    probs = []
    for s in samples:
        x = rec.prepare(load_image(s.path))
        valid = -(-x.shape[1] // 4)
        probs.append(softmax(rec.logits(pad_batch([x], rec.info.input_spec))[0, : valid + 2]))
    results: dict[str, float] = {}
    results["greedy"] = score(truths, [greedy_decode(pr, cs).text for pr in probs]).cer
    results["beam"] = score(truths, [beam_decode(pr, cs).text for pr in probs]).cer
    folder = args.model or bundled_model_dir()
    best_params: dict[str, float] = {}
    best_lex = 1.0
    for weight, unknown in itertools.product((0.1, 0.15, 0.2, 0.25, 0.3), (-14.0, -18.0)):
        lex = Lexicon.load(folder / (rec.info.lexicon or "lexicon.tsv.gz"), weight=weight, unknown=unknown)
        cer = score(truths, [beam_decode(pr, cs, word_score=lex.score).text for pr in probs]).cer
        results[f"beam+lexicon w={weight} unk={unknown}"] = cer
        if cer < best_lex:
            best_lex, best_params = cer, {"weight": weight, "unknown": unknown}
    for k, v in results.items():
        print(f"{k:40s} CER {v:.4f}")
    winner = min(("greedy", "beam", "beam+lexicon"),
                 key=lambda d: results[d] if d != "beam+lexicon" else best_lex)
    print(json.dumps({"winner": winner, "lexicon_params": best_params, "samples": len(samples),
                      "cer": {"greedy": results["greedy"], "beam": results["beam"], "beam+lexicon": best_lex}}))
    if args.apply:
        if not isinstance(folder, Path):
            raise SystemExit("--apply needs --model pointing at a bundle folder")
        info = read_info(folder)
        info.decoder = winner
        info.extra["lexicon_params"] = best_params
        info.figures.setdefault("decoders_val_cer", {}).update(
            {"greedy": round(results["greedy"], 4), "beam": round(results["beam"], 4),
             "beam+lexicon": round(best_lex, 4)})
        write_info(folder, info)
    return 0 if np.isfinite(best_lex) else 1
