"""Render the shipped sample line (resources/samples/sample-line.png + .txt) in a clear handwriting font.

``python scripts/render_sample.py [--font ~/.cache/htr-desktop/fonts/kalam.woff2]`` (needs the ``train`` extra for
Pillow; the fonts come from ``python -m training fonts``). The text sidecar is what the packaged-executable smoke test
expects the trained model to read. Synthetic on purpose: no dataset image (IAM) is ever shipped.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import cv2
import numpy as np
from PIL import ImageFont

from model.charset import Charset
from training.fonts import font_dir
from training.synth import Font, load_font, render

SAMPLE_TEXT = "Meet me at the station at noon"
SCALE = 2  # render at twice the training x-height so the sample looks like a phone photo, not a thumbnail
SAMPLES = Path(__file__).resolve().parent.parent / "resources" / "samples"


def render_sample(text: str, font_path: Path, seed: int = 3) -> np.ndarray:
    """A gray uint8 line of ``text`` in ``font_path``, on slightly uneven, noisy paper."""
    base = load_font(font_path, Charset())
    if base is None or not set(text) <= base.covered:
        raise SystemExit(f"{font_path} cannot draw {text!r}")
    big = Font(base.path, ImageFont.truetype(str(font_path), base.font.size * SCALE), base.covered)
    img = render(text, big, random.Random(seed)).astype(np.float32)
    h, w = img.shape
    shade = np.linspace(0, 18, w, dtype=np.float32)[None, :]  # soft light falloff across the page
    noise = np.random.default_rng(seed).normal(0, 3, img.shape)
    paper = img * 0.84 + 28 - shade + noise
    return np.clip(paper, 0, 255).astype(np.uint8)


def main() -> None:
    """Write the sample image and its expected-text sidecar."""
    p = argparse.ArgumentParser(prog="python scripts/render_sample.py")
    p.add_argument("--font", type=Path, default=font_dir() / "kalam.woff2")
    p.add_argument("--text", default=SAMPLE_TEXT)
    p.add_argument("--out", type=Path, default=SAMPLES / "sample-line.png")
    args = p.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), render_sample(args.text, args.font))
    args.out.with_suffix(".txt").write_text(args.text + "\n", encoding="utf-8")
    print("wrote", args.out, "and", args.out.with_suffix(".txt").name)


if __name__ == "__main__":
    main()
