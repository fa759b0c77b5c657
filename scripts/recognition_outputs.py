"""What ``Recognizer.recognize`` makes of the validation crops, to show a speed-up changes no output.

``python scripts/recognition_outputs.py OUT.json`` (run from the checkout to test, or with its folder first on
``PYTHONPATH``) records, for every crop of the validation sets (``training.validation``: the 275 held-back IAM
lines, which hold the speed benchmark's 100, the 496 held-back names and the 200 held-out font lines), the text, the
confidence and each word's text, confidence, alternatives and box, read one crop at a time with the bundled model and
its default decoder on one thread. ``python scripts/recognition_outputs.py --compare A.json B.json`` counts the
crops that differ at all and those whose texts, alternatives or boxes differ or whose confidences differ by more
than 1e-6.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def outputs(sets: list[str]) -> dict[str, Any]:
    """Set and file name -> [text, confidence, [[word, confidence, alternatives, box], ...]] (or the error)."""
    from model.imageio import ImageError, load_image
    from model.recognizer import Recognizer
    from training.validation import font_samples, iam_samples, name_samples

    loaders = {"iam": iam_samples, "names": name_samples, "fonts": font_samples}
    rec = Recognizer.load(threads=1)
    out: dict[str, Any] = {}
    for name in sets:
        for sample in loaders[name]():
            key = f"{name}/{sample.path.name}"
            try:
                (pred,) = rec.recognize([load_image(sample.path)])
            except ImageError as exc:
                out[key] = str(exc)
                continue
            out[key] = [pred.text, pred.confidence,
                        [[w.text, w.confidence, list(w.alternatives), list(w.box or ())] for w in pred.words]]
    return out


def near(a: Any, b: Any, tolerance: float = 1e-6) -> bool:
    """Whether two records are equal but for confidences within ``tolerance``."""
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= tolerance
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(near(x, y, tolerance) for x, y in zip(a, b))
    return bool(a == b)


def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
    """Print how many records differ (at all, and beyond a confidence tolerance); 1 if any does beyond it."""
    keys = sorted(set(a) | set(b))
    exact = [k for k in keys if a.get(k) != b.get(k)]
    far = [k for k in exact if not near(a.get(k), b.get(k))]
    print(f"{len(keys)} crops; {len(exact)} differ at all, {len(far)} beyond 1e-6"
          f"{': ' + ', '.join(far[:5]) if far else ''}")
    return 1 if far else 0


def main() -> int:
    """Write the outputs of this checkout, or compare two files of them."""
    p = argparse.ArgumentParser()
    p.add_argument("out", nargs="?", help="the JSON file to write")
    p.add_argument("--sets", default="iam,names,fonts", help="comma-separated: iam, names, fonts")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"))
    args = p.parse_args()
    if args.compare:
        return compare(*(json.loads(Path(f).read_text()) for f in args.compare))
    if not args.out:
        p.error("OUT.json or --compare A B")
    result = outputs(args.sets.split(","))
    Path(args.out).write_text(json.dumps(result))
    print(f"{len(result)} crops -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
