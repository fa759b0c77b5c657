"""Personal adaptation without TensorFlow: fine-tune the CRNN's last BiLSTM and logits layer in numpy.

The layers below stay frozen; LiteRT computes their output once per sample. The numpy head is trained with
the CTC gradient, regularised towards the original weights (so it does not forget), checked on held-aside
samples, and written back into a copy of the bundle's ``.tflite`` files.
"""

from __future__ import annotations

import gzip
import logging
import math
import random
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from model.beam import BeamDecoder
from model.bundle import ModelError, ModelInfo, bundled_model_dir, read_info, write_info
from model.ctc import ctc_loss_grad
from model.decode import greedy_decode, softmax
from model.decoder_config import DecoderConfig
from model.head import Head
from model.jitter import jitter
from model.lexicon import Lexicon, LogFrequencies
from model.recognizer import Recognizer, bucket_width
from model.tflite_weights import TfliteWeights

log = logging.getLogger(__name__)

MIN_HELD = 5
MIN_TRAIN = 5
CV_SHARE = 0.65  # of the time budget for the cross-validation rounds; the rest trains the model installed
FINISH_SECONDS = 20.0  # kept back for writing the bundle and checking it
PERSONAL_LOG_FREQS = (-9.0, -5.0)  # the user's words at least as frequent as the 1000th (20th) listed word
STRETCHES = (0.8, 1.25, 1.5, 1.75)  # widths times these are tried on the user's lines before adapting
STRETCH_GAIN = 0.9  # a stretch is taken only if the lines read with at most this share of the errors
EDGE = re.compile(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$")  # punctuation around a word, as the word list strips it
Progress = Callable[[float, str], None]


class AdaptError(RuntimeError):
    """Adaptation cannot run (too few samples, a model that cannot be adapted); the message is for users."""


class Cancelled(RuntimeError):
    """The user cancelled adaptation."""


@dataclass(frozen=True)
class LabelledImage:
    """One sample: an image (any numpy image) and its correct text."""

    image: np.ndarray
    text: str


@dataclass
class AdaptOptions:
    """How to adapt: layers to tune, time budget, optimiser settings."""

    lstm_layers: int = 1  # BiLSTMs tuned (from the top); 0 = logits layer only
    minutes: float = 5.0
    max_epochs: int = 60
    patience: int = 12
    learning_rate: float = 1e-3
    anchor: float = 1e-3  # L2 pull towards the original weights
    batch: int = 4
    seed: int = 0
    jittered: int = 4  # mildly distorted copies of each line (model/jitter.py); an epoch uses one per line
    select: str = "cer"  # early stopping on the held-aside lines: "cer" (greedy CER, then loss) or "loss" (then CER)
    folds: int = 3  # cross-validation rounds; each holds a third of the lines aside
    stretch: bool = True  # try wider or narrower inputs (STRETCHES) on the user's lines first


@dataclass
class AdaptResult:
    """What adaptation measured and did."""

    cer_before: float
    cer_after: float
    train_lines: int
    held_lines: int
    epochs: int
    seconds: float
    installed: bool
    reason: str = ""
    out: str | None = None
    refit_epochs: int = 0  # epochs of the final training on every line
    decoder: str = ""  # the decoder settings chosen on the lines kept aside
    personal_words: float | None = None  # the user's words added to the word list at this log frequency (None: not)
    stretch: float = 1.0  # input widths times this (chosen on the user's lines)
    history: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The result as the CLI prints it."""
        return {"cer_before": round(self.cer_before, 4), "cer_after": round(self.cer_after, 4),
                "train_lines": self.train_lines, "held_lines": self.held_lines, "epochs": self.epochs,
                "seconds": round(self.seconds, 1), "installed": self.installed, "reason": self.reason,
                "refit_epochs": self.refit_epochs, "decoder": self.decoder, "personal_words": self.personal_words,
                "stretch": self.stretch,
                "model": self.out}


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(truths: Sequence[str], preds: Sequence[str]) -> float:
    """Character error rate over a set (total edits / total characters), whitespace-normalised."""
    norm = [" ".join(t.split()) for t in truths]
    edits = sum(edit_distance(t, " ".join(p.split())) for t, p in zip(norm, preds))
    return edits / max(1, sum(len(t) for t in norm))


class FeatureReader:
    """Runs the frozen part of a bundle's LiteRT model and reads the input of a given BiLSTM layer."""

    def __init__(self, tflite: bytes, threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "preserve_all_tensors is intended for debugging"
            self._interp = Interpreter(model_content=tflite, num_threads=threads,
                                       experimental_preserve_all_tensors=True,
                                       experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        self._shape: tuple[int, ...] | None = None

    def _index(self, layer: int) -> int:
        names = {d["name"]: d["index"] for d in self._interp.get_tensor_details()}
        pattern = re.compile(rf"bilstm{layer - 1}[^/]*/concat$" if layer > 0 else r"flatten_height[^/]*/Reshape$")
        found = [i for n, i in names.items() if pattern.search(n)]
        if not found:
            raise AdaptError("this model's layers cannot be read; it cannot be adapted")
        return int(found[0])

    def read(self, batch: np.ndarray, layer: int) -> np.ndarray:
        """(1, h, w, 1) input -> (T, features) input of BiLSTM ``layer`` (the logits layer if past the last)."""
        interp = self._interp
        index = interp.get_input_details()[0]["index"]
        if self._shape != batch.shape:
            interp.resize_tensor_input(index, batch.shape)
            interp.allocate_tensors()
            self._shape = batch.shape
        interp.reset_all_variables()  # a fused LSTM op would otherwise start from the last run's state
        interp.set_tensor(index, np.ascontiguousarray(batch, dtype=np.float32))
        interp.invoke()
        return np.array(interp.get_tensor(self._index(layer))[0], dtype=np.float32)


@dataclass
class _Encoded:
    features: np.ndarray
    labels: list[int]
    text: str
    variants: list[np.ndarray] = field(default_factory=list)  # features of jittered copies
    frames: int = 0  # frames the Recognizer decodes (the line's own width, not the padding)

    def pick(self, rng: random.Random) -> np.ndarray:
        """The original or one of its jittered copies, at random."""
        if not self.variants:
            return self.features
        k = rng.randrange(len(self.variants) + 1)
        return self.features if k == 0 else self.variants[k - 1]


class _Adam:
    def __init__(self, params: dict[str, np.ndarray], lr: float) -> None:
        self.lr, self.t = lr, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        for k, g in grads.items():
            self.m[k] = 0.9 * self.m[k] + 0.1 * g
            self.v[k] = 0.999 * self.v[k] + 0.001 * g * g
            mhat = self.m[k] / (1 - 0.9 ** self.t)
            vhat = self.v[k] / (1 - 0.999 ** self.t)
            params[k] -= (self.lr * mhat / (np.sqrt(vhat) + 1e-8)).astype(np.float32)


def _tflite_bytes(folder: Any, info: ModelInfo) -> bytes:
    name = info.tflite[min(info.tflite)]
    return (folder / name).read_bytes()


def _features(reader: FeatureReader, rec: Recognizer, image: np.ndarray, layer: int) -> tuple[np.ndarray, int]:
    """Features at the input of ``layer`` (padded to the width bucket) and the frames the Recognizer keeps."""
    tensor = rec.prepare(image)
    width = bucket_width(tensor.shape[1])
    batch = np.zeros((1, tensor.shape[0], width, 1), dtype=np.float32)
    batch[0, :, : tensor.shape[1], 0] = tensor
    features = reader.read(batch, layer)
    downsample = max(1, round(width / len(features)))
    return features, min(len(features), max(1, -(-tensor.shape[1] // downsample) + 2))


def _encode(reader: FeatureReader, rec: Recognizer, samples: Sequence[LabelledImage], layer: int,
            cancelled: Callable[[], bool], jittered: int = 0, seed: int = 0) -> list[_Encoded]:
    """Features of each sample (and of ``jittered`` mildly distorted copies of it) at the input of ``layer``."""
    rng = np.random.default_rng(seed)
    out = []
    for s in samples:
        if cancelled():
            raise Cancelled()
        text = rec.info.charset.filter(s.text)
        variants = [_features(reader, rec, jitter(s.image, rng), layer)[0] for _ in range(jittered)]
        features, frames = _features(reader, rec, s.image, layer)
        out.append(_Encoded(features, rec.info.charset.encode(text), text, variants, frames))
    return out


def _greedy_cer(head: Head, data: list[_Encoded], rec: Recognizer | None) -> tuple[float, float]:
    if not data or rec is None:
        return 0.0, 0.0
    logits_all, _ = head.forward_batch([d.features for d in data])
    preds, loss = [], 0.0
    for d, logits in zip(data, logits_all):
        preds.append(greedy_decode(softmax(logits), rec.info.charset).text)
        loss += ctc_loss_grad(logits, d.labels)[0] / max(1, len(d.labels))
    return cer([d.text for d in data], preds), loss / max(1, len(data))


Weights = dict[str, np.ndarray]


def _epoch(head: Head, train: list[_Encoded], adam: _Adam, anchor: Weights, opts: AdaptOptions,
           rng: random.Random, cancelled: Callable[[], bool]) -> None:
    """One pass over ``train`` in shuffled batches (each line as itself or one of its jittered copies)."""
    trainable = set(adam.m)
    order = list(range(len(train)))
    rng.shuffle(order)
    for b in range(0, len(order), opts.batch):
        if cancelled():
            raise Cancelled()
        items = [train[i] for i in order[b: b + opts.batch]]
        logits_all, cache = head.forward_batch([d.pick(rng) for d in items])
        dlogits = []
        for d, logits in zip(items, logits_all):
            loss, dl = ctc_loss_grad(logits, d.labels)
            dlogits.append(dl / max(1, len(d.labels)) if np.isfinite(loss) else np.zeros_like(dl))
        grads = head.backward_batch(dlogits, cache)
        for k in trainable:
            grads[k] = grads[k] / opts.batch + opts.anchor * (head.weights[k] - anchor[k])
        adam.step(head.weights, grads)


def _rank(held_cer: float, held_loss: float, opts: AdaptOptions) -> tuple[float, float]:
    """What early stopping minimises: greedy CER then loss, or (``select="loss"``) loss then CER."""
    return (held_loss, held_cer) if opts.select == "loss" else (held_cer, held_loss)


def train_head(head: Head, train: list[_Encoded], held: list[_Encoded], rec: Recognizer | None, opts: AdaptOptions,
               progress: Progress, cancelled: Callable[[], bool], epochs: int | None = None,
               span: tuple[float, float] = (0.1, 0.95)) -> tuple[Weights, list[dict[str, float]]]:
    """Fine-tune ``head`` on ``train``; returns the weights that did best on ``held`` and the history.

    With ``epochs`` (and no held-aside lines), trains exactly that many epochs and returns the last weights.
    """
    start = time.monotonic()
    anchor = {k: v.copy() for k, v in head.weights.items()}
    trainable = {k for k in head.weights if k not in head.frozen}
    adam = _Adam({k: head.weights[k] for k in trainable}, opts.learning_rate)
    best_cer, best_loss = _greedy_cer(head, held, rec)
    best = {k: v.copy() for k, v in head.weights.items()}
    history = [{"epoch": 0, "held_cer": best_cer, "held_loss": best_loss, "seconds": 0.0}]
    rng = random.Random(opts.seed)
    stale = 0
    budget = max(1e-6, opts.minutes * 60)
    total = epochs or opts.max_epochs
    for epoch in range(1, total + 1):
        _epoch(head, train, adam, anchor, opts, rng, cancelled)
        elapsed = time.monotonic() - start
        done = max(epoch / total, elapsed / budget)
        if epochs:
            history.append({"epoch": epoch, "seconds": elapsed})
            progress(min(span[1], span[0] + (span[1] - span[0]) * done),
                     f"final training on all lines: pass {epoch} of {epochs}")
            best = head.weights
            if elapsed > budget:
                break
            continue
        held_cer, held_loss = _greedy_cer(head, held, rec)
        history.append({"epoch": epoch, "held_cer": held_cer, "held_loss": held_loss, "seconds": elapsed})
        if _rank(held_cer, held_loss, opts) < _rank(best_cer, best_loss, opts):
            best_cer, best_loss, stale = held_cer, held_loss, 0
            best = {k: v.copy() for k, v in head.weights.items()}
        else:
            stale += 1
        progress(min(span[1], span[0] + (span[1] - span[0]) * done),
                 f"pass {epoch}: {100 * held_cer:.1f} % character errors on the lines kept aside "
                 f"(best {100 * best_cer:.1f} %, {100 * history[0]['held_cer']:.1f} % before)")
        if stale >= opts.patience or elapsed > budget:
            break
    return {k: v.copy() for k, v in best.items()}, history


def write_bundle(base: Any, info: ModelInfo, weights: Weights, out: Path, figures: dict[str, Any]) -> None:
    """Copy the bundle at ``base`` to ``out`` with ``weights`` written into every ``.tflite`` file."""
    out.mkdir(parents=True, exist_ok=True)
    for item in base.iterdir():
        if item.is_file() and item.name != "model.json" and not item.name.endswith(".keras"):
            (out / item.name).write_bytes(item.read_bytes())
    for name in info.tflite.values():
        tw = TfliteWeights((base / name).read_bytes())
        for key, value in weights.items():
            tw.set(key, value)
        (out / name).write_bytes(tw.to_bytes())
    personal = ModelInfo(**{**info.__dict__})
    personal.version = f"{info.version.split('+')[0]}+personal.{time.strftime('%Y%m%d%H%M%S')}"
    personal.figures = {**info.figures, "personal": figures}
    personal.trained_on = [*info.trained_on, f"adapted to one writer: {figures['train_lines']} corrected lines "
                           f"(numpy fine-tuning of the last layers, checked on {figures['held_lines']} held aside)"]
    personal.extra = {k: v for k, v in info.extra.items() if k != "keras"}
    personal.extra["adapted_from"] = info.version
    write_info(out, personal)


def _recognize_texts(rec: Recognizer, samples: Sequence[LabelledImage]) -> list[str]:
    return [p.text for p in rec.recognize([s.image for s in samples])]


def adapt(samples: Sequence[LabelledImage], out: Path, model: str | Path | None = None,
          opts: AdaptOptions | None = None, progress: Progress | None = None,
          cancelled: Callable[[], bool] | None = None) -> AdaptResult:
    """Adapt the model at ``model`` (default: bundled) to ``samples``; install at ``out`` only if better.

    Cross-validation: the lines are split into ``opts.folds`` parts; each part is held aside in turn while a copy of
    the head trains on the others, all copies epoch by epoch. The pooled held-aside figures choose the epoch count,
    the decoder weights and the personal word list, and decide whether to install; the installed model is then
    trained on every line for that many epochs.
    """
    opts = opts or AdaptOptions()
    progress = progress or (lambda f, m: None)
    cancelled = cancelled or (lambda: False)
    start = time.monotonic()
    base: Any = bundled_model_dir() if model is None else Path(model)
    rec = Recognizer.load(None if model is None else model)
    tw = TfliteWeights(_tflite_bytes(base, rec.info))
    layers = tw.lstm_layers
    k = min(opts.lstm_layers, layers)
    folds = make_folds(len(samples), opts.folds, opts.seed)
    progress(0.0, f"reading {len(samples)} samples")
    truths = [rec.info.charset.filter(s.text) for s in samples]
    before = cer(truths, _recognize_texts(rec, samples))
    if opts.stretch:
        progress(0.02, "trying your lines wider and narrower")
        rec = choose_stretch(rec, base, samples, truths, before)
    info = rec.info
    progress(0.05, "preparing the lines and mildly distorted copies of them" if opts.jittered else
             "preparing the lines")
    reader = FeatureReader(_tflite_bytes(base, info))
    data = _encode(reader, rec, samples, layers - k, cancelled, opts.jittered, opts.seed)
    keys = [key for key in tw.refs if key.startswith("logits/") or
            any(key.startswith(f"bilstm{j}/") for j in range(layers - k, layers))]
    original = {key: tw.get(key) for key in keys}
    first = f"bilstm{layers - k}/forward/kernel" if k else "logits/kernel"
    if any(d.features.shape[1] != original[first].shape[0] for d in data):
        raise AdaptError("this model's layers are stored in a form that cannot be adapted")
    usable = sum(1 for d in data if d.labels)
    progress(0.1, f"adapting on {usable} lines in {len(folds)} rounds, each keeping a different "
                  f"{_share(len(folds))} of them aside")
    budget = max(1e-6, opts.minutes * 60)
    cv_minutes = max(0.0, CV_SHARE * budget - (time.monotonic() - start)) / 60
    fold_weights, history = cross_validate(original, layers - k, k, data, folds, rec,
                                           replace(opts, minutes=cv_minutes), progress, cancelled)
    if cancelled():
        raise Cancelled()
    best_epoch = int(min(history, key=lambda h: _rank(h["held_cer"], h["held_loss"], opts))["epoch"])
    progress(0.7, "choosing the decoder settings on the lines kept aside")
    after, decoder, vocabulary = _choose_decoding(rec, base, info, original, layers - k, k, fold_weights, data, folds)
    result = AdaptResult(before, after, usable, len(samples), best_epoch, time.monotonic() - start, False,
                         history=history, personal_words=vocabulary, stretch=info.input_spec.x_scale,
                         decoder=decoder.name if decoder == info.decoder else
                         f"{decoder.name} (language model and word list at half weight)")
    if after >= before:
        result.reason = "not better on the lines kept aside; the current model stays"
        return result
    figures: dict[str, Any] = {"train_lines": usable, "held_lines": len(samples), "folds": len(folds),
                               "held_cer_before": round(before, 4), "held_cer_after": round(after, 4),
                               "epochs": best_epoch, "refit_lines": usable, "personal_words": vocabulary}
    figures["decoder"] = result.decoder
    weights = original
    if best_epoch:
        fresh = Head({key: v.copy() for key, v in original.items()}, layers - k, k)
        left = budget - (time.monotonic() - start) - FINISH_SECONDS
        weights, refit_history = train_head(fresh, [d for d in data if d.labels], [], None,
                                            replace(opts, minutes=max(0.0, left) / 60), progress, cancelled,
                                            epochs=best_epoch, span=(0.7, 0.95))
        result.refit_epochs = figures["refit_epochs"] = len(refit_history) - 1
        if cancelled():
            raise Cancelled()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".adapt-", dir=out.parent))
    try:
        write_bundle(base, info, weights, tmp, figures)
        try:
            personal = read_info(tmp)
            personal.decoder = decoder
            if vocabulary is not None and decoder.words:
                write_personal_words(base / decoder.words, tmp / decoder.words, truths, vocabulary)
            write_info(tmp, personal)
            seen = cer(truths, _recognize_texts(Recognizer.load(tmp), samples))
        except ModelError as exc:
            result.reason = f"the adapted model does not load ({exc})"
            return result
        if seen > after:
            result.reason = (f"the adapted model reads its own lines worse ({100 * seen:.1f} %) than the models "
                             f"that had not seen them ({100 * after:.1f} %); the current model stays")
            return result
        _install(tmp, out)
        result.installed, result.out = True, str(out)
        result.seconds = time.monotonic() - start
        progress(1.0, f"CER on the lines kept aside {before:.3f} -> {after:.3f}")
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def choose_stretch(rec: Recognizer, base: Any, samples: Sequence[LabelledImage], truths: list[str],
                   before: float) -> Recognizer:
    """The recognizer with the input stretch (``STRETCHES``, or none) that reads the user's lines best, if it reads
    them with at most ``STRETCH_GAIN`` of the errors of the unstretched input."""
    best, best_cer = rec, before
    for scale in STRETCHES:
        spec = replace(rec.info.input_spec, x_scale=round(rec.info.input_spec.x_scale * scale, 4))
        other = Recognizer(base, replace(rec.info, input_spec=spec))
        score = cer(truths, _recognize_texts(other, samples))
        log.info("stretch %.2f: CER %.4f (%.4f unstretched)", scale, score, before)
        if score <= STRETCH_GAIN * best_cer and score < best_cer:
            best, best_cer = other, score
    return best


def _share(folds: int) -> str:
    """'third', 'fifth'... : the part of the lines each cross-validation round keeps aside."""
    return {1: "all", 2: "half", 3: "third", 4: "quarter", 5: "fifth"}.get(folds, f"1/{folds}")


def make_folds(n: int, folds: int, seed: int = 0) -> list[list[int]]:
    """Indices of the lines held aside in each cross-validation round (every line exactly once)."""
    if n < MIN_HELD + MIN_TRAIN:
        raise AdaptError(f"adapting needs at least {MIN_HELD + MIN_TRAIN} corrected lines; there are {n}")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    folds = max(2, min(folds, n // 2))
    return [sorted(order[f::folds]) for f in range(folds)]


def cross_validate(original: Weights, first_layer: int, layers: int, data: list[_Encoded], folds: list[list[int]],
                   rec: Recognizer, opts: AdaptOptions, progress: Progress,
                   cancelled: Callable[[], bool]) -> tuple[list[Weights], list[dict[str, float]]]:
    """Train one copy of the head per fold, epoch by epoch; returns each copy's weights at the epoch whose pooled
    held-aside figures (greedy CER, loss per character) were best, and the pooled history."""
    start = time.monotonic()
    heads = [Head({k: v.copy() for k, v in original.items()}, first_layer, layers) for _ in folds]
    trains = [[d for i, d in enumerate(data) if i not in set(held) and d.labels] for held in folds]
    helds = [[data[i] for i in held] for held in folds]
    adams = [_Adam({k: h.weights[k] for k in h.weights if k not in h.frozen}, opts.learning_rate) for h in heads]
    rngs = [random.Random(opts.seed + f) for f in range(len(folds))]

    def pooled() -> tuple[float, float]:
        edits = chars = lines = 0
        loss = 0.0
        for head, held in zip(heads, helds):
            e, c, total = _held_stats(head, held, rec)
            edits, chars, loss, lines = edits + e, chars + c, loss + total, lines + len(held)
        return edits / max(1, chars), loss / max(1, lines)

    best_cer, best_loss = pooled()
    best = [{k: v.copy() for k, v in h.weights.items()} for h in heads]
    history = [{"epoch": 0, "held_cer": best_cer, "held_loss": best_loss, "seconds": 0.0}]
    stale = 0
    budget = max(1e-6, opts.minutes * 60)
    for epoch in range(1, opts.max_epochs + 1):
        for head, train, adam, rng in zip(heads, trains, adams, rngs):
            _epoch(head, train, adam, original, opts, rng, cancelled)
        held_cer, held_loss = pooled()
        elapsed = time.monotonic() - start
        history.append({"epoch": epoch, "held_cer": held_cer, "held_loss": held_loss, "seconds": elapsed})
        if _rank(held_cer, held_loss, opts) < _rank(best_cer, best_loss, opts):
            best_cer, best_loss, stale = held_cer, held_loss, 0
            best = [{k: v.copy() for k, v in h.weights.items()} for h in heads]
        else:
            stale += 1
        done = max(epoch / opts.max_epochs, elapsed / max(1e-9, budget))
        progress(min(0.7, 0.1 + 0.6 * done),
                 f"pass {epoch}: {100 * held_cer:.1f} % character errors on the lines kept aside "
                 f"(best {100 * best_cer:.1f} %, {100 * history[0]['held_cer']:.1f} % before)")
        if stale >= opts.patience or elapsed + elapsed / epoch > budget:
            break
    return best, history


def _held_stats(head: Head, held: list[_Encoded], rec: Recognizer) -> tuple[int, int, float]:
    """(edits, characters, summed loss per character) of the greedy reading of ``held``."""
    if not held:
        return 0, 0, 0.0
    logits_all, _ = head.forward_batch([d.features for d in held])
    edits = chars = 0
    loss = 0.0
    for d, logits in zip(held, logits_all):
        truth = " ".join(d.text.split())
        edits += edit_distance(truth, " ".join(greedy_decode(softmax(logits), rec.info.charset).text.split()))
        chars += len(truth)
        loss += ctc_loss_grad(logits, d.labels)[0] / max(1, len(d.labels))
    return edits, chars, loss


def personal_words(texts: Sequence[str]) -> set[str]:
    """The words of the user's corrected lines as the word list spells them (lower case, no edge punctuation)."""
    words = set()
    for text in texts:
        for token in text.split():
            core = EDGE.sub("", token)
            if any(c.isalpha() for c in core):
                words.add(core.lower())
    return words


def with_personal_words(lexicon: Lexicon, words: set[str], log_freq: float) -> Lexicon:
    """``lexicon`` with ``words`` at least as frequent as ``log_freq`` (natural log of a relative frequency)."""
    merged = LogFrequencies(lexicon.log_freq)  # logarithms still taken on first use
    merged.update({w: max(log_freq, lexicon.log_freq.get(w, log_freq)) for w in words})
    return Lexicon(merged, weight=lexicon.weight, unknown=lexicon.unknown)


def write_personal_words(source: Any, target: Path, texts: Sequence[str], log_freq: float) -> None:
    """Copy the gzipped ``word<TAB>frequency`` list at ``source`` to ``target`` with the user's words added."""
    lexicon = with_personal_words(Lexicon.load(source), personal_words(texts), log_freq)
    with gzip.open(target, "wt", encoding="utf-8") as fh:
        for word in sorted(lexicon.log_freq):
            fh.write(f"{word}\t{math.exp(lexicon.log_freq[word]):.6g}\n")


def _fold_logits(original: Weights, first_layer: int, layers: int, weights: list[Weights], data: list[_Encoded],
                 folds: list[list[int]]) -> list[np.ndarray]:
    """Each line's logits from the copy of the head that did not train on it (cut to the line's frames)."""
    out: list[np.ndarray] = [np.zeros(0)] * len(data)
    for fold_weights, held in zip(weights, folds):
        head = Head(fold_weights, first_layer, layers)
        logits_all, _ = head.forward_batch([data[i].features for i in held])
        for i, logits in zip(held, logits_all):
            out[i] = logits[: data[i].frames]
    return out


def _choose_decoding(rec: Recognizer, base: Any, info: ModelInfo, original: Weights, first_layer: int, layers: int,
                     weights: list[Weights], data: list[_Encoded],
                     folds: list[list[int]]) -> tuple[float, DecoderConfig, float | None]:
    """The pooled held-aside CER of the fold models with the best decoder settings: ``decoder_candidates``, each
    with or without the words of the round's other lines added to the word list (at either of two frequencies)."""
    logits = _fold_logits(original, first_layer, layers, weights, data, folds)
    truths = [d.text for d in data]
    best: tuple[float, DecoderConfig, float | None] | None = None
    for candidate in decoder_candidates(info.decoder):
        if not candidate.uses_beam:
            preds = [greedy_decode(softmax(x), info.charset).text if len(x) else "" for x in logits]
            score = cer(truths, preds)
            if best is None or score < best[0]:
                best = (score, candidate, None)
            continue
        beam = BeamDecoder(info.charset, candidate, base)
        plain = beam.lexicon
        levels: list[float | None] = [None]
        if candidate.uses_words and plain is not None:
            levels += list(PERSONAL_LOG_FREQS)
        for level in levels:
            preds = [""] * len(data)
            for held in folds:
                if level is not None and plain is not None:
                    others = [truths[i] for i in range(len(data)) if i not in set(held)]
                    beam.set_lexicon(with_personal_words(plain, personal_words(others), level))
                for i in held:
                    preds[i] = beam.decode(logits[i]).text if len(logits[i]) else ""
            score = cer(truths, preds)
            log.info("decoder %s lm %.2f words %.2f personal words %s: CER %.4f", candidate.name,
                     candidate.lm_weight, candidate.words_weight, level, score)
            if best is None or score < best[0]:
                best = (score, candidate, level)
            beam.set_lexicon(plain)
    assert best is not None
    return best


def decoder_candidates(base: DecoderConfig) -> list[DecoderConfig]:
    """The base model's decoder, then the same with its language model and word list at half weight (weights tuned
    for the base model can be too strong for the adapted one). Dropping them altogether was tried: it won on the
    5 held-aside lines of an IAM writer and lost badly on that writer's other lines."""
    out = [base]
    if base.uses_lm or base.uses_words:
        out.append(replace(base, lm_weight=base.lm_weight / 2, words_weight=base.words_weight / 2))
    return out


def _install(tmp: Path, out: Path) -> None:
    """Move the checked bundle to ``out``, replacing an older one only once the new one is complete."""
    if out.exists():
        old = out.with_name(out.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(out)
