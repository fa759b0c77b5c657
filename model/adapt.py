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
    history: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The result as the CLI prints it."""
        return {"cer_before": round(self.cer_before, 4), "cer_after": round(self.cer_after, 4),
                "train_lines": self.train_lines, "held_lines": self.held_lines, "epochs": self.epochs,
                "seconds": round(self.seconds, 1), "installed": self.installed, "reason": self.reason,
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


def _encode(reader: FeatureReader, rec: Recognizer, samples: Sequence[LabelledImage], layer: int,
            cancelled: Callable[[], bool]) -> list[_Encoded]:
    out = []
    for s in samples:
        if cancelled():
            raise Cancelled()
        text = rec.info.charset.filter(s.text)
        tensor = rec.prepare(s.image)
        batch = np.zeros((1, tensor.shape[0], bucket_width(tensor.shape[1]), 1), dtype=np.float32)
        batch[0, :, : tensor.shape[1], 0] = tensor
        out.append(_Encoded(reader.read(batch, layer), rec.info.charset.encode(text), text))
    return out


def _greedy_cer(head: Head, data: list[_Encoded], rec: Recognizer) -> tuple[float, float]:
    preds, loss = [], 0.0
    for d in data:
        logits, _ = head.forward(d.features)
        preds.append(greedy_decode(softmax(logits), rec.info.charset).text)
        loss += ctc_loss_grad(logits, d.labels)[0] / max(1, len(d.labels))
    return cer([d.text for d in data], preds), loss / max(1, len(data))


Weights = dict[str, np.ndarray]


def train_head(head: Head, train: list[_Encoded], held: list[_Encoded], rec: Recognizer, opts: AdaptOptions,
               progress: Progress, cancelled: Callable[[], bool]) -> tuple[Weights, list[dict[str, float]]]:
    """Fine-tune ``head`` on ``train``; returns the weights that did best on ``held`` and the history."""
    start = time.monotonic()
    anchor = {k: v.copy() for k, v in head.weights.items()}
    trainable = {k for k in head.weights if k not in head.frozen}
    adam = _Adam({k: head.weights[k] for k in trainable}, opts.learning_rate)
    best_cer, best_loss = _greedy_cer(head, held, rec)
    best = {k: v.copy() for k, v in head.weights.items()}
    history = [{"epoch": 0, "held_cer": best_cer, "held_loss": best_loss}]
    rng = random.Random(opts.seed)
    stale = 0
    budget = opts.minutes * 60
    for epoch in range(1, opts.max_epochs + 1):
        order = list(range(len(train)))
        rng.shuffle(order)
        for b in range(0, len(order), opts.batch):
            grads: dict[str, np.ndarray] = {k: np.zeros_like(head.weights[k]) for k in trainable}
            for i in order[b: b + opts.batch]:
                if cancelled():
                    raise Cancelled()
                d = train[i]
                logits, caches = head.forward(d.features)
                loss, dlogits = ctc_loss_grad(logits, d.labels)
                if not np.isfinite(loss):
                    continue
                for k, g in head.backward(dlogits / max(1, len(d.labels)), caches).items():
                    grads[k] += g
            for k in trainable:
                grads[k] = grads[k] / opts.batch + opts.anchor * (head.weights[k] - anchor[k])
            adam.step(head.weights, grads)
        held_cer, held_loss = _greedy_cer(head, held, rec)
        history.append({"epoch": epoch, "held_cer": held_cer, "held_loss": held_loss})
        elapsed = time.monotonic() - start
        if (held_cer, held_loss) < (best_cer, best_loss):
            best_cer, best_loss, stale = held_cer, held_loss, 0
            best = {k: v.copy() for k, v in head.weights.items()}
        else:
            stale += 1
        progress(min(0.95, 0.1 + 0.85 * max(epoch / opts.max_epochs, elapsed / budget)),
                 f"round {epoch}: {100 * held_cer:.1f} % character errors on the lines kept aside "
                 f"(best {100 * best_cer:.1f} %, {100 * history[0]['held_cer']:.1f} % before)")
        if stale >= opts.patience or elapsed > budget:
            break
    return best, history


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
    data = _encode(reader, rec, samples, layers - k, cancelled)
    keys = [key for key in tw.refs if key.startswith("logits/") or
            any(key.startswith(f"bilstm{j}/") for j in range(layers - k, layers))]
    head = Head({key: tw.get(key) for key in keys}, layers - k, k)
    first = f"bilstm{layers - k}/forward/kernel" if k else "logits/kernel"
    if any(d.features.shape[1] != head.weights[first].shape[0] for d in data):
        raise AdaptError("this model's layers are stored in a form that cannot be adapted")
    train = [data[i] for i in train_idx if data[i].labels]
    held = [data[i] for i in held_idx]
    progress(0.1, f"adapting on {len(train)} lines, {len(held)} held aside")
    weights, history = train_head(head, train, held, rec, opts, progress, cancelled)
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
        _install(tmp, out)
        result.installed, result.out = True, str(out)
        progress(1.0, f"held-aside CER {before:.3f} -> {after:.3f}")
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
