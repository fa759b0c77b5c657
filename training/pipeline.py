"""Batches for training: real crops and synthetic text, augmented, through the one preprocessing path.

A batch is a pure function of (seed, step): a resumed run sees exactly the batches an uninterrupted run
would have seen. Real crops are kept at their original resolution; with augmentation off a crop takes
exactly the path it takes in ``Recognizer`` (``prepare_line``), so training and recognition agree.
"""

from __future__ import annotations

import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from model.charset import Charset
from model.imageio import ImageError, load_image, to_gray
from model.preprocess import InputSpec, pad_batch, prepare_line
from training.augment import X_SCALE, augment
from training.datasets import Sample
from training.synth import Font, TextSampler, can_render, render, render_form_field

log = logging.getLogger(__name__)


@dataclass
class RealImage:
    """A real labelled crop kept in memory (8-bit gray, original resolution)."""

    image: np.ndarray
    text: str


@dataclass
class Source:
    """A pool of real crops and its share of the real batches."""

    name: str
    items: list[RealImage]
    weight: float = 1.0
    strength: float = 0.6  # photometric augmentation strength


def _read(sample: Sample, charset: Charset) -> RealImage | None:
    try:
        img = to_gray(load_image(sample.path))
    except ImageError as exc:
        log.warning("skipping %s: %s", sample.path, exc)
        return None
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    text = charset.filter(sample.text)
    return RealImage(np.ascontiguousarray(img), text) if text else None


def load_real(samples: list[Sample], charset: Charset, workers: int = 2) -> list[RealImage]:
    """Read crops (in parallel), filter labels to the charset; unreadable files are skipped."""
    with ThreadPoolExecutor(max(1, workers)) as pool:
        loaded = list(pool.map(lambda s: _read(s, charset), samples, chunksize=64))
    return [r for r in loaded if r is not None]


def ctc_feasible(text_ids: list[int], width: int, downsample: int = 4) -> bool:
    """CTC needs a frame per label plus one between repeated labels; the network keeps one frame per ``downsample``
    columns."""
    repeats = sum(a == b for a, b in zip(text_ids, text_ids[1:]))
    return len(text_ids) + repeats <= width // downsample


def rescale(image: np.ndarray, rng: np.random.Generator, spec: InputSpec) -> np.ndarray:
    """Scale augmentation: shrink a large crop to 1.25-3x the model height (cheaper to augment, too)."""
    target = spec.height * rng.uniform(1.25, 3.0)
    h, w = image.shape
    if h <= target:
        return image
    s = target / h
    return cv2.resize(image, (max(1, int(round(w * s))), max(1, int(round(h * s)))), interpolation=cv2.INTER_AREA)


@dataclass
class BatchPlan:
    """Batch ``step``'s draw: a real ``source``, or synthetic crops of ``kind`` with ``sampler``'s text."""

    rng: np.random.Generator
    source: Source | None
    sampler: TextSampler | None
    kind: str  # "line", "form" or "word" (synthetic batches)

    @property
    def label(self) -> str:
        """The source's name for real batches, ``synth-<kind>`` for synthetic ones."""
        return self.source.name if self.source is not None else f"synth-{self.kind}"


@dataclass
class BatchMaker:
    """Makes training batch ``step`` (deterministic) from real sources and synthetic text."""

    spec: InputSpec
    charset: Charset
    sources: list[Source]
    fonts: list[Font]
    batch_size: int
    real_fraction: float
    synth_line_fraction: float = 0.6
    synth_form_fraction: float = 0.3  # of synthetic word batches: names written in form fields
    seed: int = 1
    synth_caps_lines: float = 0.0  # of synthetic lines: written wholly in block capitals
    synth_tracking: float = 0.0  # of synthetic lines and words: drawn letter by letter, crowded or spread
    synth_glyph_jitter: float = 0.0  # of synthetic lines and words: every letter slanted, turned, sized on its own
    ink_gaps: float = 0.0  # of augmented crops, real and synthetic: strokes broken by pen skips (augment._ink_gaps)
    x_scale: tuple[float, float] = X_SCALE  # horizontal scales of augmented crops (augment._geometry)
    zones: float = 0.0  # of augmented crops: the lower case resized against the capitals (augment._zones)
    pad_extra: float = 0.0  # of batches: more paper to the right of every crop (see batch_width)
    augment: bool = True
    shard: int = 0  # worker index in multi-worker training: each worker draws its own batches
    width_downsample: int = 4  # the network's input columns per output frame
    _weights: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.sources = [s for s in self.sources if s.items and s.weight > 0]
        w = np.array([s.weight for s in self.sources], dtype=np.float64)
        self._weights = w / w.sum() if len(w) else w
        if not self.sources:
            self.real_fraction = 0.0

    def _synthetic(self, rng: np.random.Generator, sampler: TextSampler, kind: str) -> tuple[np.ndarray, str]:
        r = random.Random(int(rng.integers(1 << 31)))
        for _ in range(20):
            if kind == "line":
                text = sampler.line()
            elif kind == "form":
                text = sampler.name()
            else:
                text = sampler.name() if r.random() < 0.35 else sampler.word()
            font = self.fonts[int(rng.integers(len(self.fonts)))]
            if can_render(text, font):
                if kind == "form":
                    return render_form_field(text, font, r), text
                crowd = tracking(r) if self.synth_tracking and r.random() < self.synth_tracking else 0.0
                jittered = self.synth_glyph_jitter and r.random() < self.synth_glyph_jitter
                jitter = r.uniform(0.3, 1.0) if jittered else 0.0
                return render(text, font, r, tracking=crowd, jitter=jitter), text
        return render("a", self.fonts[0], r), "a"

    def sample(self, rng: np.random.Generator, source: Source) -> tuple[np.ndarray, str]:
        """One real crop of ``source``, augmented unless augmentation is off."""
        item = source.items[int(rng.integers(len(source.items)))]
        if not self.augment:
            return item.image, item.text
        image = rescale(item.image, rng, self.spec)
        return self._augment(image, rng, source.strength), item.text

    def _augment(self, image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
        """``augment`` with this run's options."""
        return augment(image, rng, strength=strength, gaps=self.ink_gaps, x_scale=self.x_scale, zones=self.zones)

    def plan(self, step: int) -> BatchPlan:
        """What batch ``step`` holds (one real source, or one kind of synthetic crop), and its generator."""
        rng = np.random.default_rng([self.seed, self.shard, step])
        use_real = rng.random() < self.real_fraction or not self.fonts
        source = self.sources[int(rng.choice(len(self.sources), p=self._weights))] if use_real else None
        sampler = None if use_real else TextSampler(self.charset, seed=int(rng.integers(1 << 31)),
                                                      caps_lines=self.synth_caps_lines)
        r = rng.random()
        kind = "line" if r < self.synth_line_fraction else (
            "form" if rng.random() < self.synth_form_fraction else "word")
        return BatchPlan(rng, source, sampler, kind)

    def make(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``step``: (images (b, h, w, 1), labels (b, L) zero-padded)."""
        plan = self.plan(step)
        rng, source, sampler, kind = plan.rng, plan.source, plan.sampler, plan.kind
        tensors: list[np.ndarray] = []
        labels: list[list[int]] = []
        while len(tensors) < self.batch_size:
            if source is not None:
                image, text = self.sample(rng, source)
            else:
                assert sampler is not None
                image, text = self._synthetic(rng, sampler, kind)
                if self.augment:
                    image = self._augment(image, rng, 1.0)
            x = prepare_line(image, self.spec)
            ids = self.charset.encode(text)
            if not ctc_feasible(ids, x.shape[1], self.width_downsample):
                continue
            tensors.append(x)
            labels.append(ids)
        widest = max(t.shape[1] for t in tensors)
        # its own generator, so that a config with pad_extra draws the same crops as one without
        width = batch_width(widest, np.random.default_rng([self.seed, self.shard, step, 1]), self.pad_extra,
                            self.spec.max_width)
        batch = pad_batch(tensors, self.spec, width=width)
        target = np.zeros((len(labels), max(len(ll) for ll in labels)), dtype=np.int32)
        for i, ll in enumerate(labels):
            target[i, : len(ll)] = ll
        return batch, target


def batch_width(widest: int, rng: np.random.Generator, pad_extra: float, max_width: int) -> int:
    """A batch's width: its widest crop in steps of 64 (few distinct shapes), and in a share ``pad_extra`` of the
    batches 64-512 px more. A short crop is read with up to a width bucket of paper after it (``model.recognizer``),
    but the names, words and form fields of a batch are of similar widths, so a network trained on tight batches
    alone reads a name worse the more paper follows it (session 12); the extra paper teaches it to ignore that."""
    width = -(-widest // 64) * 64
    if pad_extra and rng.random() < pad_extra:
        width = max(width, min(-(-max_width // 64) * 64, width + 64 * int(rng.integers(1, 9))))
    return width


def tracking(rng: random.Random) -> float:
    """A letter spacing for ``synth.render``, in x-heights: mostly crowded (letters touching and overlapping, as in
    fast narrow hands and slanted fonts that set their letters too tight), sometimes spread."""
    if rng.random() < 0.7:
        return rng.uniform(-0.22, -0.03)
    return rng.uniform(0.05, 0.35)


def prepare_validation(real: list[RealImage], spec: InputSpec) -> list[tuple[np.ndarray, str]]:
    """Validation tensors (no augmentation), sorted by width for efficient batching."""
    items = [(prepare_line(r.image, spec), r.text) for r in real]
    return sorted(items, key=lambda it: it[0].shape[1])


def font_paths(folder: str) -> list[Path]:
    """The ``.woff2``/``.ttf`` files of a font folder, without the Debian handwriting fonts (evaluation only) and
    the held-out validation families."""
    from training.fonts import is_reserved, is_validation

    root = Path(folder).expanduser()
    paths = []
    for path in sorted(p for p in root.glob("*") if p.suffix.lower() in (".woff2", ".ttf", ".otf")):
        if is_reserved(path):
            log.warning("not training on %s: a Debian handwriting font, kept for evaluation", path.name)
        elif is_validation(path):
            log.warning("not training on %s: a held-out validation font", path.name)
        else:
            paths.append(path)
    return paths
