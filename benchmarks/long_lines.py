"""Lines wider than the network's input (about 50:1): read squeezed to 1,600 columns, or in pieces cut at word gaps.

Usage: python -m benchmarks.long_lines [--join 6] [--count 40] [--no-write]

Long lines are made by joining ``--join`` consecutive held-back lines side by side (a gap of a third of their
height between them, centred vertically; the truth is their texts joined by a space): IAM lines of the held-back
groups (same form, so the same writer) and lines in the held-out handwriting fonts. Each is read by
``Recognizer.recognize`` with the default decoder, once with ``split_long_lines`` off (the line squeezed into the
network's maximum width, as before) and once on (``model.long_lines``). Writes the "long_lines" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np

from benchmarks.report import load_note, machine, publish
from model.imageio import to_gray
from model.long_lines import piece_columns
from model.preprocess import prepare_line_parts
from model.recognizer import Recognizer
from training.metrics import score
from training.validation import font_samples, iam_samples, readable


def join_side_by_side(images: Sequence[np.ndarray]) -> np.ndarray:
    """Gray images side by side on paper (each image's median), centred vertically, a third of the height apart."""
    grays = [to_gray(img) for img in images]
    height = max(g.shape[0] for g in grays)
    gap = height // 3
    paper = int(np.median(np.concatenate([g.ravel() for g in grays])))
    out = np.full((height, sum(g.shape[1] for g in grays) + gap * (len(grays) - 1)), paper, np.uint8)
    x = 0
    for g in grays:
        y = (height - g.shape[0]) // 2
        out[y: y + g.shape[0], x: x + g.shape[1]] = g
        x += g.shape[1] + gap
    return out


def long_lines(name: str, join: int, count: int) -> list[tuple[str, np.ndarray]]:
    """Up to ``count`` (truth, image) pairs of ``join`` consecutive lines of a held-back set (IAM: same form)."""
    samples = iam_samples() if name == "iam" else font_samples(200)
    loaded = readable(samples)
    groups: dict[str, list[tuple[str, np.ndarray]]] = {}
    for s, img in loaded:
        key = "-".join(s.path.stem.split("-")[:2]) if name == "iam" else "all"
        groups.setdefault(key, []).append((s.text, img))
    out = []
    for lines in groups.values():
        for i in range(0, len(lines) - join + 1, join):
            chunk = lines[i: i + join]
            out.append((" ".join(t for t, _ in chunk), join_side_by_side([img for _, img in chunk])))
    return out[:count]


def measure(rec: Recognizer, lines: list[tuple[str, np.ndarray]]) -> dict[str, float]:
    """CER squeezed and in pieces, the share of lines cut and the seconds a line, over ``lines``."""
    truths = [rec.info.charset.filter(t) for t, _ in lines]
    images = [img for _, img in lines]
    spec = rec.info.input_spec
    cut = sum(piece_columns(prepare_line_parts(img, spec), spec, img.shape[1]) is not None for img in images)
    result: dict[str, float] = {"lines": len(lines), "cut": cut / max(1, len(lines))}
    for split in (False, True):
        rec.split_long_lines = split
        rec.recognize(images[:2])  # warm the interpreters
        start = time.process_time()
        preds = [rec.recognize([img])[0].text for img in images]
        result[f"seconds_{split}"] = (time.process_time() - start) / max(1, len(images))
        result[f"cer_{split}"] = score(truths, preds).cer
    result["aspect"] = float(np.median([img.shape[1] / img.shape[0] for img in images]))
    return result


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--join", type=int, default=6, help="lines joined into one long line")
    p.add_argument("--count", type=int, default=40, help="long lines a set")
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args()
    rec = Recognizer.load(threads=1)
    rows = []
    for name, label in (("iam", "IAM held-back groups"), ("fonts", "held-out handwriting fonts")):
        r = measure(rec, long_lines(name, args.join, args.count))
        rows.append(f"| {label} | {r['lines']:.0f} | {r['aspect']:.0f}:1 | {100 * r['cut']:.0f}% | "
                    f"{100 * r['cer_False']:.1f}% | **{100 * r['cer_True']:.1f}%** | "
                    f"{1000 * r['seconds_False']:.0f} / {1000 * r['seconds_True']:.0f} |")
    body = (f"## Lines wider than the network (`python -m benchmarks.long_lines`)\n\n"
            f"{machine()}; {load_note()}; model {rec.version}, decoder {rec.decoder}. {args.join} consecutive "
            "held-back lines joined side by side into one line image (IAM: lines of the same form), read squeezed "
            "into the network's 1,600 columns (before) or cut at word gaps into pieces that fit "
            "(`model.long_lines`). Reading the pieces costs more CPU: each is read at full width, and each is prepared "
            "again from the line image.\n\n"
            "| long lines from | lines | median width:height (image) | cut into pieces | CER squeezed | CER in "
            "pieces | CPU ms a line (squeezed / pieces) |\n|---|---|---|---|---|---|---|\n" + "\n".join(rows))
    return publish("long_lines", body, not args.no_write)


if __name__ == "__main__":
    raise SystemExit(main())
