"""How well the word boxes of a line fit the words: the network's alignment against the ink segmented into words.

Usage: python -m benchmarks.word_boxes [--lines 400] [--no-write]

IAM lines rebuilt from word crops of the allowed forms (``~/.cache/htr-desktop/data/iam-lines-rebuilt``, made by
``training``) come with IAM's box of every word. Each line is read as ``recognize --layout line`` reads it
(``model.page.read_image``); each IAM word (punctuation joined to its word, as the recognizer writes it) counts as
found when a box of the result overlaps it with IoU >= 0.5. "segmentation": the boxes from the crop's ink split
into words (``segment_words``) shared out over the recognized words, as before; "alignment": each word's box from
the frames the network read it at (``model.alignment``). Writes the "word_boxes" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np

from benchmarks.report import machine, publish
from model.imageio import decode_pages, read_bytes
from model.page import crop_line, read_image
from model.recognizer import Prediction, Recognizer, Word
from training.datasets import WordBox, group_lines, read_iam_word_boxes

DATA = Path("~/.cache/htr-desktop/data").expanduser()
MARGIN = 12  # training.iam_lines.MARGIN: paper around a rebuilt line
_PUNCT = re.compile(r"^[^A-Za-z0-9]+$")


def truth_boxes(words: list[WordBox]) -> list[tuple[int, int, int, int]]:
    """IAM's word boxes (x0, y0, x1, y1) in the rebuilt line's pixels, punctuation joined to its word."""
    ox, oy = min(w.box[0] for w in words) - MARGIN, min(w.box[1] for w in words) - MARGIN
    out: list[list[int]] = []
    pending: list[int] | None = None  # opening punctuation waits for the next word
    for w in words:
        box = [w.box[0] - ox, w.box[1] - oy, w.box[0] - ox + w.box[2], w.box[1] - oy + w.box[3]]
        if pending is not None:
            box = _union(box, pending)
            pending = None
        if _PUNCT.match(w.text) and (w.text in "([{" or not out):
            pending = box
        elif out and (_PUNCT.match(w.text) or w.text.startswith("'")):
            out[-1] = _union(out[-1], box)
        else:
            out.append(box)
    return [(a, b, c, d) for a, b, c, d in out]


def _union(a: list[int], b: list[int]) -> list[int]:
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]


def iou(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union if union > 0 else 0.0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--lines", type=int, default=400)
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args()
    files = sorted((DATA / "iam-lines-rebuilt").glob("*.png"))
    if not files:
        raise SystemExit("no rebuilt IAM lines in ~/.cache/htr-desktop/data/iam-lines-rebuilt")
    files = files[:: max(1, len(files) // args.lines)][: args.lines]
    forms = {"-".join(f.stem.split("-")[:2]) for f in files}
    lines = group_lines(read_iam_word_boxes(DATA / "iam-words/words_new.txt", DATA / "iam-words/words", forms))
    rec = Recognizer.load(threads=1)
    found: dict[str, list[float]] = {"segmentation": [], "alignment": []}
    cpu = {"segmentation": 0.0}
    n = 0
    for f in files:
        words = lines.get(f.stem)
        if not words:
            continue
        gray = decode_pages(read_bytes(str(f)), f.name, None)[0]
        _, result = read_image(gray, rec, "line")
        line = result.lines[0]
        plain = Prediction(line.text, line.confidence, tuple(Word(w.text, w.confidence) for w in line.words))
        c = time.process_time()
        segmented = crop_line(plain, gray)  # without the alignment's boxes: segment_words, as before
        cpu["segmentation"] += time.process_time() - c
        truth = truth_boxes(words)
        for name, got in (("alignment", line.words), ("segmentation", segmented.words)):
            boxes = [(x, y, x + w, y + h) for x, y, w, h in (wr.box for wr in got)]
            found[name] += [max((iou(t, b) for b in boxes), default=0.0) for t in truth]
        n += 1
    rows = []
    for name in ("segmentation", "alignment"):
        v = np.array(found[name])
        rows.append(f"| {name} | {np.mean(v >= 0.5):.1%} | {np.mean(v >= 0.7):.1%} | {v.mean():.3f} |")
    body = "\n".join([
        "## Word boxes of a line (`python -m benchmarks.word_boxes`)",
        "",
        f"{machine()}; model {rec.version}; {n} IAM lines rebuilt from word crops of the allowed forms (every "
        f"{max(1, len(sorted((DATA / 'iam-lines-rebuilt').glob('*.png'))) // args.lines)}th by name), "
        f"{len(found['alignment'])} IAM words with their boxes (punctuation joined to its word). A word is found "
        "when a box of `recognize --layout line` overlaps it with IoU >= 0.5 (or 0.7).",
        "",
        "| word boxes from | words found (IoU >= 0.5) | (IoU >= 0.7) | mean best IoU |",
        "|---|---|---|---|",
        *rows,
        "",
        "segmentation: the crop's ink segmented into words (`segment_words`: its own binarisation, a Gaussian "
        "blur, gaps), shared out over the recognized words by character count when the counts differ (the method "
        f"before session 5; {cpu['segmentation'] / n * 1000:.1f} ms CPU a line here). alignment: each "
        "recognized word's box is its ink, cut from its neighbours at the emptiest columns between the frames "
        "the network read them at (`model.alignment`; no extra pass over the image); pages keep "
        "their segmentation's word boxes. These lines come from forms the model was trained on, so it reads them "
        "better than unseen writing, which favours the alignment; IAM has no word boxes for the held-back lines.",
    ])
    return publish("word_boxes", body, not args.no_write)


if __name__ == "__main__":
    raise SystemExit(main())
