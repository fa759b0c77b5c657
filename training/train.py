"""The training loop: CTC loss, validation CER per epoch, best/last checkpoints, resumable to the step.

State lives in ``<run_dir>/<name>/``: ``ckpt-<step>.keras`` (weights + optimizer state, written every
``checkpoint_every`` steps and at each epoch end), ``state.json`` (step, learning rate, best score,
patience counters; written after its checkpoint, so it always names a complete one), ``best.keras``,
``last.keras``, ``epoch-<n>.keras`` (each epoch's weights, for ``average`` and ``candidate``), ``history.csv``.
Batches are a pure function of (seed, step), so ``--resume`` continues exactly where an interrupted run stopped.
With ``ema_momentum`` set, validation, ``best.keras`` and ``last.keras`` use the moving average of the weights (the
optimizer keeps it, so it resumes too). With ``teacher`` set, the loss also pulls every frame towards a larger
network's posteriors (``training/distill.py``); the reported loss stays CTC.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from model.charset import Charset
from model.decode import greedy_decode, softmax
from model.network import NetworkSpec, build_crnn
from model.preprocess import InputSpec, pad_batch
from training import bn_stats, distill
from training.config import TrainConfig
from training.data_sources import ValidationTensors, load_data
from training.metrics import score
from training.pipeline import BatchMaker, Source
from training.synth import Font
from training.warm_start import copy_fitting_weights, widen_conv, widen_recurrent

log = logging.getLogger(__name__)


def ctc_loss(y_true: Any, y_pred: Any) -> Any:
    """CTC loss; labels zero-padded (0 is the blank, never a real label), full logit length."""
    import tensorflow as tf

    labels = tf.cast(y_true, tf.int32)
    label_length = tf.reduce_sum(tf.cast(labels > 0, tf.int32), axis=1)
    logit_length = tf.fill([tf.shape(y_pred)[0]], tf.shape(y_pred)[1])
    return tf.nn.ctc_loss(labels, y_pred, label_length, logit_length, logits_time_major=False, blank_index=0)


def predict_texts(model: Any, tensors: list[np.ndarray], spec: InputSpec, charset: Charset,
                  batch_size: int = 16, pad_to: Callable[[int], int] | None = None) -> list[str]:
    """Greedy transcription of prepared tensors with a Keras model (used for validation). ``pad_to``: each crop
    padded to ``pad_to(its width)`` (``bucket_width``: as ``Recognizer`` reads it), crops of one padded width
    batched together, each read from its own frames and two more; None: the tensors batched as they come."""
    if pad_to is None:
        texts: list[str] = []
        for i in range(0, len(tensors), batch_size):
            chunk = tensors[i: i + batch_size]
            logits = np.asarray(model(pad_batch(chunk, spec), training=False))
            texts.extend(greedy_decode(softmax(row), charset).text for row in logits)
        return texts
    out = [""] * len(tensors)
    groups: dict[int, list[int]] = {}
    for i, t in enumerate(tensors):
        groups.setdefault(pad_to(t.shape[1]), []).append(i)
    for width, members in groups.items():
        for k in range(0, len(members), batch_size):
            part = members[k: k + batch_size]
            rows = np.asarray(model(pad_batch([tensors[n] for n in part], spec, width=width), training=False))
            downsample = max(1, round(width / rows.shape[1]))
            for row, n in zip(rows, part):
                valid = -(-tensors[n].shape[1] // downsample) + 2
                out[n] = greedy_decode(softmax(row[:valid]), charset).text
    return out


def validate(model: Any, sets: list[ValidationTensors], spec: InputSpec, charset: Charset,
             app_widths: bool = False) -> dict[str, float]:
    """Greedy CER per validation set (case-insensitive where the set says so) and their mean. ``app_widths``: also
    each set read at the app's widths (``val_cer_<set>_app``), and the mean (the score) of those."""
    from model.recognizer import bucket_width

    out: dict[str, float] = {}
    for suffix, pad_to in (("", None), ("_app", bucket_width)) if app_widths else (("", None),):
        for vs in sets:
            preds = predict_texts(model, [t for t, _ in vs.items], spec, charset, pad_to=pad_to)
            truths = [t for _, t in vs.items]
            if vs.ignore_case:
                preds, truths = [p.upper() for p in preds], [t.upper() for t in truths]
            out[f"val_cer_{vs.name}{suffix}"] = score(truths, preds).cer
        if sets:
            out["val_score"] = float(np.mean([out[f"val_cer_{vs.name}{suffix}"] for vs in sets]))
    return out


@dataclass
class RunState:
    """Everything besides weights and optimizer that a resumed run needs."""

    step: int = 0
    learning_rate: float = 0.0
    best: float = math.inf
    since_best: int = 0  # epochs without improvement (early stopping)
    since_lr_drop: int = 0  # epochs without improvement since the last learning-rate drop
    loss_sum: float = 0.0  # training loss summed over the current epoch's steps so far
    seconds: float = 0.0  # wall-clock training time over all sessions, up to the last checkpoint
    cpu_seconds: float = 0.0  # CPU time (all threads, user + system) over all sessions, up to the last checkpoint
    checkpoint: str = ""
    finished: bool = False
    history: list[dict[str, float]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> RunState | None:
        """The saved state, or None when there is none."""
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))

    def write(self, path: Path) -> None:
        """Atomic write (temporary file, then rename)."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        os.replace(tmp, path)


def _strategy(name: str) -> Any:
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def _worker_index() -> tuple[int, bool]:
    """(task index, is chief) from TF_CONFIG; (0, True) on a single machine."""
    tf_config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = tf_config.get("task", {})
    index, kind = int(task.get("index", 0)), task.get("type", "worker")
    has_chief = "chief" in tf_config.get("cluster", {})
    return index, kind == "chief" or (kind == "worker" and index == 0 and not has_chief)


class Prefetcher:
    """Computes upcoming batches in worker threads (OpenCV and Pillow release the GIL)."""

    def __init__(self, maker: BatchMaker, workers: int, ahead: int = 8) -> None:
        self.maker, self.ahead = maker, ahead
        self.pool = ThreadPoolExecutor(max(1, workers))
        self.pending: dict[int, Future[tuple[np.ndarray, np.ndarray]]] = {}

    def get(self, step: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``step``; schedules the following ones up to ``last`` (exclusive)."""
        for s in range(step, min(last, step + self.ahead)):
            if s not in self.pending:
                self.pending[s] = self.pool.submit(self.maker.make, s)
        return self.pending.pop(step).result()

    def close(self) -> None:
        """Stop the worker threads."""
        self.pool.shutdown(wait=False, cancel_futures=True)


def train(cfg: TrainConfig, resume: bool = True, stop_after: int | None = None) -> Path:
    """Train (resuming from ``<run>/state.json`` if present and ``resume``); returns the best checkpoint.

    ``stop_after`` stops after that many steps in this call (for tests and time-boxed sessions).
    """
    import keras
    import tensorflow as tf

    cv2.setNumThreads(1)
    keras.utils.set_random_seed(cfg.seed)
    charset = Charset()
    spec = InputSpec(height=cfg.height, max_width=cfg.max_width)
    shard, is_chief = _worker_index()
    # every worker of a multi-worker run keeps its own copy (the chief's is the run's)
    out = cfg.checkpoint_dir if is_chief else cfg.checkpoint_dir / f"worker{shard}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(cfg.to_json(), indent=2))
    state_path = out / "state.json"
    state = RunState.read(state_path) if resume else None
    if state and state.finished:
        log.info("run %s already finished at step %d", cfg.name, state.step)
        return out / "best.keras" if (out / "best.keras").exists() else out / "last.keras"

    sources, val_sets, fonts = load_data(cfg, charset, spec)
    maker = batch_maker(cfg, spec, charset, sources, fonts, shard=shard)
    total = cfg.epochs * cfg.steps_per_epoch
    strategy = _strategy(cfg.strategy)
    with strategy.scope():
        if state:
            log.info("resuming %s at step %d from %s", cfg.name, state.step, state.checkpoint)
            model = keras.models.load_model(out / state.checkpoint, custom_objects={"ctc_loss": ctc_loss})
            optimizer = model.optimizer
        else:
            state = RunState(learning_rate=cfg.learning_rate)
            if cfg.init_from and not cfg.init_partial:
                model = keras.models.load_model(cfg.path(cfg.init_from), compile=False)
            else:
                net = NetworkSpec(conv_filters=tuple(cfg.conv_filters), lstm_units=cfg.lstm_units,
                                  lstm_layers=cfg.lstm_layers, dropout=cfg.dropout,
                                  width_downsample=cfg.width_downsample)
                model = build_crnn(spec.height, charset.num_classes, net)
                if cfg.init_from:
                    donor = keras.models.load_model(cfg.path(cfg.init_from), compile=False)
                    copy_fitting_weights(model, donor)
                    widen_conv(model, donor)
                    widen_recurrent(model, donor)
            _prepare_batch_norm(cfg, model, maker)
            learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = cfg.learning_rate
            if cfg.lr_schedule == "cosine":
                learning_rate = keras.optimizers.schedules.CosineDecay(
                    cfg.learning_rate, total, alpha=cfg.min_learning_rate / cfg.learning_rate)
            optimizer = keras.optimizers.Adam(learning_rate, clipnorm=5.0, use_ema=cfg.ema_momentum > 0,
                                              ema_momentum=cfg.ema_momentum or 0.99)
            model.compile(optimizer=optimizer, loss=ctc_loss, jit_compile=False)
            optimizer.build(model.trainable_variables)
        if cfg.lr_schedule == "plateau":
            optimizer.learning_rate.assign(state.learning_rate)
        teacher = distill.load_teacher(cfg.path(cfg.teacher), model, spec.height) if cfg.teacher else None

    replicas = strategy.num_replicas_in_sync

    @tf.function(input_signature=[tf.TensorSpec([None, spec.height, None, 1], tf.float32),
                                  tf.TensorSpec([None, None], tf.int32)])
    def train_step(x: Any, y: Any) -> Any:
        def replica_step(x: Any, y: Any) -> Any:
            with tf.GradientTape() as tape:
                logits = model(x, training=True)
                loss = tf.reduce_mean(ctc_loss(y, logits))  # what the run reports: comparable across runs
                total = loss
                if teacher is not None:
                    kl = distill.frame_kl(teacher(x, training=False), logits, cfg.distill_temperature)
                    total = loss + cfg.distill_weight * tf.reduce_mean(kl)
                scaled = total / replicas  # gradients are summed over replicas
            grads = tape.gradient(scaled, model.trainable_variables)
            optimizer.apply(grads, model.trainable_variables)
            return loss

        per_replica = strategy.run(replica_step, args=(x, y))
        return strategy.reduce(tf.distribute.ReduceOp.MEAN, per_replica, axis=None)

    def clock() -> None:
        """Bring the run's wall and CPU time up to now."""
        state.seconds = base_seconds + time.monotonic() - started
        state.cpu_seconds = base_cpu + time.process_time() - cpu_started

    def save_checkpoint() -> None:
        name = f"ckpt-{state.step}.keras"
        tmp = out / f"tmp-{name}"
        model.save(tmp)
        os.replace(tmp, out / name)
        previous = state.checkpoint
        state.checkpoint = name
        clock()
        state.learning_rate = float(np.asarray(optimizer.learning_rate))
        state.write(state_path)
        if previous and previous != name:
            (out / previous).unlink(missing_ok=True)

    seed_generators = [layer.seed_generator for layer in model._flatten_layers()
                       if getattr(layer, "seed_generator", None) is not None]

    def reseed(step: int) -> None:
        """Dropout masks as a function of (seed, step), so a resumed run draws the same ones."""
        for i, gen in enumerate(seed_generators):
            gen.state.assign(np.array([cfg.seed * 1009 + i, step], dtype=gen.state.dtype))

    prefetch = Prefetcher(maker, cfg.workers)
    stop_at = total if stop_after is None else min(total, state.step + stop_after)
    started, base_seconds = time.monotonic(), state.seconds
    cpu_started, base_cpu = time.process_time(), state.cpu_seconds
    progbar = None
    try:
        while state.step < stop_at:
            in_epoch = state.step % cfg.steps_per_epoch
            if progbar is None:
                progbar = keras.utils.Progbar(cfg.steps_per_epoch, verbose=cfg.verbose,
                                              stateful_metrics=["loss", "lr"])
            x, y = prefetch.get(state.step, stop_at)
            reseed(state.step)
            loss = float(train_step(tf.constant(x), tf.constant(y)))
            state.step += 1
            state.loss_sum += loss
            progbar.update(in_epoch + 1, [("loss", loss), ("lr", float(np.asarray(optimizer.learning_rate)))])
            if state.step % cfg.steps_per_epoch == 0:
                progbar = None
                mean_loss, state.loss_sum = state.loss_sum / cfg.steps_per_epoch, 0.0
                clock()
                if _end_epoch(cfg, state, model, optimizer, val_sets, spec, charset, out, mean_loss):
                    state.finished = True
                    save_checkpoint()
                    break
                save_checkpoint()
            elif state.step % cfg.checkpoint_every == 0:
                save_checkpoint()
        else:
            if state.step >= total:
                state.finished = True
            save_checkpoint()
    finally:
        prefetch.close()
    best = out / "best.keras"
    return best if best.exists() else out / "last.keras"


def _end_epoch(cfg: TrainConfig, state: RunState, model: Any, optimizer: Any, val_sets: list[ValidationTensors],
               spec: InputSpec, charset: Charset, out: Path, loss: float) -> bool:
    """Validate, keep best/last, log history, adjust the learning rate; True when training should stop."""
    with averaged_weights(model, optimizer):
        return _judge_epoch(cfg, state, model, optimizer, val_sets, spec, charset, out, loss)


def batch_maker(cfg: TrainConfig, spec: InputSpec, charset: Charset, sources: list[Source], fonts: list[Font], *,
                seed: int | None = None, shard: int = 0, augment: bool = True) -> BatchMaker:
    """The batches a run of ``cfg`` trains on (``seed``: another draw of them; ``augment``: False for them as
    they come)."""
    return BatchMaker(spec, charset, sources, fonts, cfg.batch_size, cfg.real_fraction, cfg.synth_line_fraction,
                      cfg.synth_form_fraction, cfg.seed if seed is None else seed, shard=shard,
                      width_downsample=cfg.width_downsample, synth_caps_lines=cfg.synth_caps_lines,
                      synth_tracking=cfg.synth_tracking, synth_glyph_jitter=cfg.synth_glyph_jitter,
                      ink_gaps=cfg.ink_gaps, pad_extra=cfg.pad_extra,
                      x_scale=cfg.augment_x_scale, zones=cfg.augment_zones, augment=augment)


def _prepare_batch_norm(cfg: TrainConfig, model: Any, maker: BatchMaker) -> None:
    """A new run's batch norm: statistics recomputed from ``bn_recalibrate`` batches of the run's mix (drawn apart
    from the run's own), then frozen with ``freeze_bn``."""
    if cfg.bn_recalibrate:
        other = replace(maker, seed=maker.seed + 7919, shard=0)
        used = bn_stats.recalibrate(model, (other.make(step)[0] for step in range(cfg.bn_recalibrate)))
        log.info("batch norm statistics recomputed from %d batches", used)
    if cfg.freeze_bn:
        log.info("batch norm frozen in %d layers", bn_stats.freeze(model))


@contextlib.contextmanager
def averaged_weights(model: Any, optimizer: Any) -> Iterator[None]:
    """With an EMA optimizer, the model holds the moving average of its weights inside the block."""
    if not optimizer.use_ema:
        yield
        return
    raw = [np.asarray(v) for v in model.trainable_variables]
    optimizer.finalize_variable_values(model.trainable_variables)
    try:
        yield
    finally:
        for var, value in zip(model.trainable_variables, raw):
            var.assign(value)


def log_history(history: Path, row: dict[str, Any]) -> None:
    """Add an epoch's ``row`` to ``history.csv``, dropping rows from its step on: a run stopped after logging an
    epoch but before its checkpoint logs that stretch again when resumed. A file begun before a column existed keeps
    its header."""
    columns, rows = list(row), []
    if history.exists():
        with history.open(newline="") as fh:
            reader = csv.DictReader(fh)
            columns = list(reader.fieldnames or columns)
            rows = [r for r in reader if not r.get("step") or int(float(r["step"])) < row["step"]]
    tmp = history.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows([*rows, row])
    tmp.replace(history)


def _judge_epoch(cfg: TrainConfig, state: RunState, model: Any, optimizer: Any, val_sets: list[ValidationTensors],
                 spec: InputSpec, charset: Charset, out: Path, loss: float) -> bool:
    """Validate the model as it is, keep best/last, log history, adjust the learning rate."""
    epoch = state.step // cfg.steps_per_epoch
    figures = validate(model, val_sets, spec, charset, app_widths=cfg.val_app_widths)
    current = figures.get("val_score", loss)
    row = {"epoch": epoch, "step": state.step, "loss": round(loss, 4),
           "lr": float(np.asarray(optimizer.learning_rate)), "seconds": round(state.seconds, 1),
           "cpu_seconds": round(state.cpu_seconds, 1),
           **{k: round(v, 4) for k, v in figures.items()}}
    state.history.append(row)
    print(f"\nepoch {epoch}: " + " ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    model.save(out / "last.keras")
    shutil.copyfile(out / "last.keras", out / f"epoch-{epoch}.keras")  # each epoch kept, for `average` and `candidate`
    log_history(out / "history.csv", row)
    if current < state.best:
        state.best, state.since_best, state.since_lr_drop = current, 0, 0
        model.save(out / "best.keras")
        return False
    state.since_best += 1
    state.since_lr_drop += 1
    if cfg.lr_schedule == "plateau" and state.since_lr_drop >= cfg.lr_patience:
        lr = max(cfg.min_learning_rate, float(np.asarray(optimizer.learning_rate)) * 0.5)
        optimizer.learning_rate.assign(lr)
        state.since_lr_drop = 0
        log.info("learning rate lowered to %g", lr)
    return state.since_best >= cfg.early_stopping_patience
