"""Batches for training: real lines and synthetic text, augmented, through the one preprocessing path."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from model.charset import Charset
from model.imageio import ImageError, load_image
from model.network import WIDTH_DOWNSAMPLE
from model.preprocess import InputSpec, pad_batch, prepare_line
from training.augment import augment
from training.datasets import Sample
from training.synth import Font, TextSampler, can_render, render

log = logging.getLogger(__name__)


@dataclass
class RealImage:
    """A real labelled crop kept in memory (downscaled) for fast augmentation."""

    image: np.ndarray
    text: str


def load_real(samples: list[Sample], charset: Charset, height: int) -> list[RealImage]:
    """Read, downscale to ``height`` and filter labels to the charset; unreadable files are skipped."""
    out = []
    for s in samples:
        try:
            img = load_image(s.path)
        except ImageError as exc:
            log.warning("skipping %s: %s", s.path, exc)
            continue
        if img.shape[0] > height:
            scale = height / img.shape[0]
            img = cv2.resize(img, (max(1, int(img.shape[1] * scale)), height), interpolation=cv2.INTER_AREA)
        text = charset.filter(s.text)
        if text:
            out.append(RealImage(img, text))
    return out


def ctc_feasible(text_ids: list[int], width: int) -> bool:
    """CTC needs a frame per label plus one between repeated labels."""
    repeats = sum(a == b for a, b in zip(text_ids, text_ids[1:]))
    return len(text_ids) + repeats <= width // WIDTH_DOWNSAMPLE


class BatchMaker:
    """Makes one random training batch at a time (used by the Keras PyDataset)."""

    def __init__(self, spec: InputSpec, charset: Charset, real: list[RealImage], fonts: list[Font],
                 batch_size: int, real_fraction: float, synth_line_fraction: float, seed: int) -> None:
        self.spec, self.charset = spec, charset
        self.real, self.fonts = real, fonts
        self.batch_size = batch_size
        self.real_fraction = real_fraction if real else 0.0
        self.synth_line_fraction = synth_line_fraction
        self.seed = seed

    def _synthetic(self, rng: np.random.Generator, sampler: TextSampler, lines: bool) -> tuple[np.ndarray, str]:
        r = random.Random(int(rng.integers(1 << 31)))
        for _ in range(20):
            text = sampler.line() if lines else (sampler.name() if r.random() < 0.35 else sampler.word())
            font = self.fonts[int(rng.integers(len(self.fonts)))]
            if can_render(text, font):
                return render(text, font, r), text
        return render("a", self.fonts[0], r), "a"

    def make(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``index``: (images (b, h, w, 1), labels (b, L) zero-padded)."""
        rng = np.random.default_rng((self.seed, index, random.getrandbits(32)))
        sampler = TextSampler(self.charset, seed=int(rng.integers(1 << 31))) if self.fonts else None
        use_real = rng.random() < self.real_fraction or sampler is None
        lines = rng.random() < self.synth_line_fraction
        tensors, labels = [], []
        while len(tensors) < self.batch_size:
            if use_real:
                item = self.real[int(rng.integers(len(self.real)))]
                image, text = augment(item.image, rng, strength=0.6), item.text
            else:
                assert sampler is not None
                image, text = self._synthetic(rng, sampler, lines)
                image = augment(image, rng, strength=1.0)
            x = prepare_line(image, self.spec)
            ids = self.charset.encode(text)
            if not ctc_feasible(ids, x.shape[1]):
                continue
            tensors.append(x)
            labels.append(ids)
        widest = max(t.shape[1] for t in tensors)
        batch = pad_batch(tensors, self.spec, width=-(-widest // 64) * 64)  # few distinct shapes
        target = np.zeros((len(labels), max(len(ll) for ll in labels)), dtype=np.int32)
        for i, ll in enumerate(labels):
            target[i, : len(ll)] = ll
        return batch, target


def prepare_validation(real: list[RealImage], spec: InputSpec) -> list[tuple[np.ndarray, str]]:
    """Validation tensors (no augmentation), sorted by width for efficient batching."""
    items = [(prepare_line(r.image, spec), r.text) for r in real]
    return sorted(items, key=lambda it: it[0].shape[1])


def font_paths(folder: str) -> list[Path]:
    """The ``.woff2``/``.ttf`` files of a font folder."""
    root = Path(folder).expanduser()
    return sorted(p for p in root.glob("*") if p.suffix.lower() in (".woff2", ".ttf", ".otf"))
