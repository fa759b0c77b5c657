"""Fingerprints of what preprocessing and segmentation make of many real crops, to show a speed-up changes nothing.

``python scripts/preprocess_fingerprints.py OUT.json [--pages]`` (run from the checkout to fingerprint, or with
its folder first on ``PYTHONPATH``) hashes, for every crop in the local data cache -- the held-back IAM lines,
the rebuilt IAM lines, the first 500 held-back name crops and every 40th IAM word crop -- the network input
(``prepare_line``), the line mask and its matrix (``line_mask``) and the segmented word boxes
(``segment_words``); with ``--pages``, the binary and ink maps, lines and words of 12 pages composed from held-back
IAM lines (6 scan-like, 6 photo-like). ``python scripts/preprocess_fingerprints.py --compare A.json B.json``
counts the entries that differ. Run it with each OpenCV build in question (the registry's, the bundle's).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

DATA = Path("~/.cache/htr-desktop/data").expanduser()
HELD_BACK = ("d05", "g04", "m03", "n03", "p01")


def digest(a: np.ndarray) -> str:
    """A short hash of an array's bytes, shape and type."""
    raw = np.ascontiguousarray(a).tobytes() + str(a.shape).encode() + a.dtype.str.encode()
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


def crops() -> list[Path]:
    """The crops to fingerprint, in a fixed order."""
    lines = sorted((DATA / "iam-lines/IAM/image").glob("*"))
    return ([p for p in lines if p.name[:3] in HELD_BACK] + sorted((DATA / "iam-lines-rebuilt").glob("*.png"))
            + sorted((DATA / "names/train_v2_test").glob("*"))[:500]
            + sorted((DATA / "iam-words/words").glob("**/*.png"))[::40])


def fingerprint(pages: bool) -> dict[str, object]:
    """Path -> fingerprints of its crop (or the error message); page name -> fingerprints of a composed page."""
    from model.bundle import bundled_model_dir, read_info
    from model.document import line_mask, prepare_page
    from model.imageio import decode_pages, read_bytes
    from model.page import clear_cache, segment_page, segment_words
    from model.preprocess import prepare_line

    spec = read_info(bundled_model_dir()).input_spec
    out: dict[str, object] = {}
    for path in crops():
        try:
            gray = decode_pages(read_bytes(str(path)), path.name, None)[0]
        except Exception as exc:  # noqa: BLE001 - an unreadable file is recorded, not fatal
            out[str(path)] = str(exc)
            continue
        try:
            prep = digest(prepare_line(gray, spec))
        except Exception as exc:  # noqa: BLE001
            prep = repr(exc)
        mask, matrix = line_mask(gray)
        out[str(path)] = {"prep": prep, "mask": digest(mask) + digest(matrix),
                          "words": segment_words(gray, (0, 0, gray.shape[1], gray.shape[0]))}
    if pages:
        from training.pages import EVAL_STYLE, PHOTO_STYLE, compose_page, iam_source

        source = iam_source(DATA / "iam-lines/IAM/gt_test.txt", list(HELD_BACK))
        for name, style in (("eval", EVAL_STYLE), ("photo", PHOTO_STYLE)):
            for seed in range(6):
                image = compose_page(source, style, seed=seed).image
                clear_cache()
                page = prepare_page(image)
                out[f"page-{name}-{seed}"] = {
                    "binary": digest(page.binary), "ink": digest(page.ink),
                    "lines": [[list(lb.box), *map(list, lb.words)] for lb in segment_page(image)]}
    return out


def main() -> int:
    """Write the fingerprints of this checkout, or compare two files of them."""
    p = argparse.ArgumentParser()
    p.add_argument("out", nargs="?", help="the JSON file to write")
    p.add_argument("--pages", action="store_true")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"))
    args = p.parse_args()
    if args.compare:
        a, b = (json.loads(Path(f).read_text()) for f in args.compare)
        differ = [k for k in a if a[k] != b.get(k)]
        print(f"{len(a)} entries, {len(differ)} differ{': ' + ', '.join(differ[:5]) if differ else ''}")
        return 1 if differ else 0
    if not args.out:
        p.error("OUT.json or --compare A B")
    result = fingerprint(args.pages)
    Path(args.out).write_text(json.dumps(result))
    print(f"{len(result)} entries -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
