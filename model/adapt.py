"""Personal adaptation without TensorFlow: fine-tune the CRNN's last BiLSTM and logits layer in numpy.

The layers below stay frozen; LiteRT computes their output once per sample. The numpy head is trained with
the CTC gradient, regularised towards the original weights (so it does not forget), checked on held-aside
samples, and written back into a copy of the bundle's ``.tflite`` files.
"""

from __future__ import annotations

import logging
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

from model.bundle import ModelError, ModelInfo, bundled_model_dir, read_info, write_info
from model.ctc import ctc_loss_grad
from model.decode import greedy_decode, softmax
from model.decoder_config import DecoderConfig
from model.head import Head
from model.jitter import jitter
from model.recognizer import Recognizer, bucket_width
from model.tflite_weights import TfliteWeights

log = logging.getLogger(__name__)

MIN_HELD = 5
MIN_TRAIN = 5
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
    refit: bool = True  # after choosing the epoch count on the held-aside lines, train again on every line


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
    refit_epochs: int = 0  # epochs of the final training on every line (0: the checked model is the one installed)
    history: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The result as the CLI prints it."""
        return {"cer_before": round(self.cer_before, 4), "cer_after": round(self.cer_after, 4),
                "train_lines": self.train_lines, "held_lines": self.held_lines, "epochs": self.epochs,
                "seconds": round(self.seconds, 1), "installed": self.installed, "reason": self.reason,
                "refit_epochs": self.refit_epochs,
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


def split_samples(n: int, seed: int = 0) -> tuple[list[int], list[int]]:
    """Indices (train, held aside): a fifth, at least MIN_HELD, is held aside."""
    if n < MIN_HELD + MIN_TRAIN:
        raise AdaptError(f"adapting needs at least {MIN_HELD + MIN_TRAIN} corrected lines; there are {n}")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    held = max(MIN_HELD, round(n / 5))
    return sorted(order[held:]), sorted(order[:held])


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


def _features(reader: FeatureReader, rec: Recognizer, image: np.ndarray, layer: int) -> np.ndarray:
    tensor = rec.prepare(image)
    batch = np.zeros((1, tensor.shape[0], bucket_width(tensor.shape[1]), 1), dtype=np.float32)
    batch[0, :, : tensor.shape[1], 0] = tensor
    return reader.read(batch, layer)


def _encode(reader: FeatureReader, rec: Recognizer, samples: Sequence[LabelledImage], layer: int,
            cancelled: Callable[[], bool], jittered: int = 0, seed: int = 0) -> list[_Encoded]:
    """Features of each sample (and of ``jittered`` mildly distorted copies of it) at the input of ``layer``."""
    rng = np.random.default_rng(seed)
    out = []
    for s in samples:
        if cancelled():
            raise Cancelled()
        text = rec.info.charset.filter(s.text)
        variants = [_features(reader, rec, jitter(s.image, rng), layer) for _ in range(jittered)]
        out.append(_Encoded(_features(reader, rec, s.image, layer), rec.info.charset.encode(text), text, variants))
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
    budget = opts.minutes * 60
    total = epochs or opts.max_epochs
    for epoch in range(1, total + 1):
        _epoch(head, train, adam, anchor, opts, rng, cancelled)
        elapsed = time.monotonic() - start
        done = max(epoch / total, elapsed / budget)
        if epochs:
            history.append({"epoch": epoch, "seconds": elapsed})
            progress(min(span[1], span[0] + (span[1] - span[0]) * done), f"round {epoch} of {epochs} on all lines")
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
                 f"round {epoch}: {100 * held_cer:.1f} % character errors on the lines kept aside "
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
    """Adapt the model at ``model`` (default: bundled) to ``samples``; install at ``out`` only if better."""
    opts = opts or AdaptOptions()
    progress = progress or (lambda f, m: None)
    cancelled = cancelled or (lambda: False)
    start = time.monotonic()
    base: Any = bundled_model_dir() if model is None else Path(model)
    info = read_info(base)
    rec = Recognizer.load(None if model is None else model)
    tw = TfliteWeights(_tflite_bytes(base, info))
    layers = tw.lstm_layers
    k = min(opts.lstm_layers, layers)
    train_idx, held_idx = split_samples(len(samples), opts.seed)
    progress(0.0, f"reading {len(samples)} samples")
    reader = FeatureReader(_tflite_bytes(base, info))
    data = _encode(reader, rec, samples, layers - k, cancelled, opts.jittered, opts.seed)
    keys = [key for key in tw.refs if key.startswith("logits/") or
            any(key.startswith(f"bilstm{j}/") for j in range(layers - k, layers))]
    original = {key: tw.get(key) for key in keys}
    head = Head({key: v.copy() for key, v in original.items()}, layers - k, k)
    first = f"bilstm{layers - k}/forward/kernel" if k else "logits/kernel"
    if any(d.features.shape[1] != head.weights[first].shape[0] for d in data):
        raise AdaptError("this model's layers are stored in a form that cannot be adapted")
    train = [data[i] for i in train_idx if data[i].labels]
    held = [data[i] for i in held_idx]
    progress(0.1, f"adapting on {len(train)} lines, {len(held)} held aside")
    span = (0.1, 0.6) if opts.refit else (0.1, 0.95)
    weights, history = train_head(head, train, held, rec, opts, progress, cancelled, span=span)
    if cancelled():
        raise Cancelled()
    held_samples = [samples[i] for i in held_idx]
    truths = [d.text for d in held]
    before = cer(truths, _recognize_texts(rec, held_samples))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".adapt-", dir=out.parent))
    try:
        figures: dict[str, Any] = {"train_lines": len(train), "held_lines": len(held),
                                   "held_cer_before": round(before, 4)}
        write_bundle(base, info, weights, tmp, figures)
        try:
            after, decoder = _choose_decoder(tmp, held_samples, truths)
        except ModelError as exc:
            return AdaptResult(before, before, len(train), len(held), len(history) - 1, time.monotonic() - start,
                               False, f"the adapted model does not load ({exc})", history=history)
        result = AdaptResult(before, after, len(train), len(held), len(history) - 1, time.monotonic() - start,
                             False, history=history)
        if after >= before:
            result.reason = "not better on the held-aside lines; the current model stays"
            return result
        figures["held_cer_after"] = round(after, 4)
        figures["decoder"] = decoder.name if decoder == info.decoder else \
            f"{decoder.name} (language model and word list at half weight)"
        personal = _with_figures(read_info(tmp), figures)
        personal.decoder = decoder
        write_info(tmp, personal)
        if opts.refit:
            fresh = Head({key: v.copy() for key, v in original.items()}, layers - k, k)
            tmp = _refit(tmp, base, info, fresh, [d for d in data if d.labels], history,
                         (held_samples, truths, after), opts, start, progress, cancelled)
            result.refit_epochs = int(read_info(tmp).figures["personal"].get("refit_epochs", 0))
        _install(tmp, out)
        result.installed, result.out = True, str(out)
        result.seconds = time.monotonic() - start
        progress(1.0, f"held-aside CER {before:.3f} -> {after:.3f}")
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _refit(checked: Path, base: Any, info: ModelInfo, head: Head, every: list[_Encoded],
           history: list[dict[str, float]], held: tuple[list[LabelledImage], list[str], float], opts: AdaptOptions,
           start: float, progress: Progress, cancelled: Callable[[], bool]) -> Path:
    """Train ``head`` (the original weights) again on every line, held-aside ones too, for the epoch count that did
    best on them, as a bundle next to ``checked``.

    Returns the folder to install: the refitted bundle, or ``checked`` (trained without the held-aside lines and
    checked on them) if the time left is too short, or if the refitted bundle does not load or reads the held-aside
    lines, now part of its training, worse than ``checked`` read them unseen. The held-aside figures in
    ``model.json`` stay those of ``checked``: only they were measured on unseen lines.
    """
    best_epoch = int(min(history, key=lambda h: _rank(h["held_cer"], h["held_loss"], opts))["epoch"])
    per_epoch = history[-1]["seconds"] / max(1, len(history) - 1) * len(every) / max(1, len(every) - len(held[0]))
    left = opts.minutes * 60 - (time.monotonic() - start)
    if best_epoch == 0 or per_epoch * best_epoch > 0.9 * left:
        log.info("no refit: best epoch %d, %.0f s left", best_epoch, left)
        return checked
    weights, _ = train_head(head, every, [], None, replace(opts, minutes=left / 60), progress, cancelled,
                            epochs=best_epoch, span=(0.6, 0.95))
    checked_info = read_info(checked)
    figures = {**checked_info.figures["personal"], "refit_epochs": best_epoch, "refit_lines": len(every)}
    tmp = Path(tempfile.mkdtemp(prefix=".adapt-", dir=checked.parent))
    images, truths, checked_cer = held
    try:
        write_bundle(base, info, weights, tmp, figures)
        personal = read_info(tmp)
        personal.decoder = checked_info.decoder
        write_info(tmp, personal)
        seen_cer = cer(truths, _recognize_texts(Recognizer.load(tmp), images))
    except ModelError as exc:
        log.warning("the refitted model does not load (%s); the checked one is used", exc)
        shutil.rmtree(tmp, ignore_errors=True)
        return checked
    if seen_cer > checked_cer:
        log.warning("the refitted model reads its held-aside lines worse (%.3f > %.3f); the checked one is used",
                    seen_cer, checked_cer)
        shutil.rmtree(tmp, ignore_errors=True)
        return checked
    shutil.rmtree(checked, ignore_errors=True)
    return tmp


def decoder_candidates(base: DecoderConfig) -> list[DecoderConfig]:
    """The base model's decoder, then the same with its language model and word list at half weight (weights tuned
    for the base model can be too strong for the adapted one). Dropping them altogether was tried: it won on the
    5 held-aside lines of an IAM writer and lost badly on that writer's other lines."""
    out = [base]
    if base.uses_lm or base.uses_words:
        out.append(replace(base, lm_weight=base.lm_weight / 2, words_weight=base.words_weight / 2))
    return out


def _choose_decoder(folder: Path, held: Sequence[LabelledImage], truths: list[str]) -> tuple[float, DecoderConfig]:
    """The held-aside CER of the adapted bundle with the best of ``decoder_candidates`` (ties: the earlier)."""
    info = read_info(folder)
    best: tuple[float, DecoderConfig] | None = None
    for candidate in decoder_candidates(info.decoder):
        info.decoder = candidate
        write_info(folder, info)
        score = cer(truths, _recognize_texts(Recognizer.load(folder), held))
        if best is None or score < best[0]:
            best = (score, candidate)
    assert best is not None
    return best


def _with_figures(info: ModelInfo, figures: dict[str, Any]) -> ModelInfo:
    info.figures = {**info.figures, "personal": figures}
    return info


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
