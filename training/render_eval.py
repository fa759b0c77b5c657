"""Render a labelled evaluation set from fonts reserved for evaluation (e.g. Debian's handwriting fonts).

``python -m training render-eval --fonts /usr/share/fonts/truetype/dkg-handwriting --kind names --out DIR``
writes DIR/*.png and DIR/labels.tsv, to be scored with ``python -m training evaluate --folder DIR``.
These fonts must never be used for training: this module only writes evaluation sets.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import cv2
import numpy as np

from model.charset import Charset
from training.synth import TextSampler, can_render, load_fonts

FONTS_FILE = "fonts.tsv"  # image name <TAB> font file name


def read_fonts(folder: Path) -> dict[str, str]:
    """Image name -> font file name of a rendered set ({} for a folder without fonts.tsv)."""
    listing = folder / FONTS_FILE
    if not listing.is_file():
        return {}
    pairs = (line.split("\t") for line in listing.read_text(encoding="utf-8").splitlines() if "\t" in line)
    return {name: font for name, font in pairs}


def render_samples(font_files: list[Path], kind: str, count: int, seed: int = 7) -> list[tuple[np.ndarray, str, str]]:
    """``count`` (gray image, text, font file name) samples of ``kind`` (names | lines | words), the fonts in turn;
    deterministic."""
    from training.synth import render

    charset = Charset()
    fonts = load_fonts(font_files, charset, min_coverage=0.5)
    if not fonts:
        raise ValueError("no usable fonts")
    sampler = TextSampler(charset, seed=seed)
    rng = random.Random(seed)
    samples: list[tuple[np.ndarray, str, str]] = []
    make = {"names": sampler.name, "lines": sampler.line, "words": sampler.word}[kind]
    while len(samples) < count:
        text = make()
        font = fonts[len(samples) % len(fonts)]
        if not can_render(text, font):
            continue
        img = render(text, font, rng)
        noise = np.random.default_rng(len(samples)).normal(0, 4, img.shape)
        samples.append((np.clip(img.astype(np.float32) * 0.85 + 30 + noise, 0, 255).astype(np.uint8), text,
                        font.path.name))
    return samples


def render_set(font_files: list[Path], kind: str, count: int, out: Path, seed: int = 7) -> int:
    """Write ``count`` rendered samples of ``kind`` (names | lines | words) with labels.tsv and fonts.tsv (each
    image's font, for ``evaluate``'s per-font figures); returns how many."""
    out.mkdir(parents=True, exist_ok=True)
    labels: list[str] = []
    fonts: list[str] = []
    for i, (img, text, font) in enumerate(render_samples(font_files, kind, count, seed)):
        name = f"{kind}-{i:04d}.png"
        cv2.imwrite(str(out / name), img)
        labels.append(f"{name}\t{text}")
        fonts.append(f"{name}\t{font}")
    (out / "labels.tsv").write_text("\n".join(labels) + "\n", encoding="utf-8")
    (out / FONTS_FILE).write_text("\n".join(fonts) + "\n", encoding="utf-8")
    return len(labels)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    p = argparse.ArgumentParser(prog="python -m training render-eval")
    p.add_argument("--fonts", type=Path, nargs="+", required=True, help="font files or folders (evaluation-only)")
    p.add_argument("--kind", choices=["names", "lines", "words"], default="names")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=7, help="another seed gives another set of texts and jitter")
    args = p.parse_args(argv)
    files: list[Path] = []
    for f in args.fonts:
        files += sorted(x for x in f.rglob("*") if x.suffix.lower() in (".ttf", ".otf")) if f.is_dir() else [f]
    try:
        print(render_set(files, args.kind, args.count, args.out, args.seed), "samples in", args.out)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    return 0
