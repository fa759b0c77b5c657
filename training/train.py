"""The training loop: Keras ``fit`` with CTC loss, validation CER, checkpoints, resume, early stopping."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from model.charset import Charset
from model.decode import greedy_decode, softmax
from model.network import NetworkSpec, build_crnn
from model.preprocess import InputSpec, pad_batch
from training.config import TrainConfig
from training.datasets import read_folder, read_group_list, read_iam_gt, split_by_groups
from training.fonts import font_dir
from training.metrics import score
from training.pipeline import BatchMaker, font_paths, load_real, prepare_validation
from training.synth import load_fonts

log = logging.getLogger(__name__)


def ctc_loss(y_true: Any, y_pred: Any) -> Any:
    """CTC loss; labels zero-padded (0 is the blank, never a real label), full logit length."""
    import tensorflow as tf

    labels = tf.cast(y_true, tf.int32)
    label_length = tf.reduce_sum(tf.cast(labels > 0, tf.int32), axis=1)
    logit_length = tf.fill([tf.shape(y_pred)[0]], tf.shape(y_pred)[1])
    return tf.nn.ctc_loss(labels, y_pred, label_length, logit_length, logits_time_major=False, blank_index=0)


def predict_texts(model: Any, tensors: list[np.ndarray], spec: InputSpec, charset: Charset,
                  batch_size: int = 16) -> list[str]:
    """Greedy transcription of prepared tensors with a Keras model (used for validation)."""
    texts = []
    for i in range(0, len(tensors), batch_size):
        chunk = tensors[i: i + batch_size]
        logits = np.asarray(model(pad_batch(chunk, spec), training=False))
        texts.extend(greedy_decode(softmax(row), charset).text for row in logits)
    return texts


def _strategy(name: str) -> Any:
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def load_data(cfg: TrainConfig, charset: Charset, spec: InputSpec) -> tuple[list[Any], list[Any], list[Any]]:
    """Real training images, validation images, and fonts, as the config asks."""
    train_samples, val_samples = [], []
    if cfg.iam_gt:
        if not cfg.iam_groups_file:
            raise ValueError("iam_groups_file is required with iam_gt: only the allowed groups may be used")
        allowed = read_group_list(Path(cfg.iam_groups_file).expanduser())
        samples = split_by_groups(read_iam_gt(Path(cfg.iam_gt).expanduser()), allowed)
        val_samples = [s for s in samples if s.group in set(cfg.val_groups)]
        train_samples = [s for s in samples if s.group not in set(cfg.val_groups)]
    for folder in cfg.extra_folders:
        train_samples += read_folder(Path(folder).expanduser())
    real = load_real(train_samples, charset, cfg.real_height)
    val = load_real(val_samples, charset, 10**6)
    fonts = load_fonts(font_paths(cfg.fonts_dir or str(font_dir())), charset)
    log.info("data: %d real training lines, %d validation lines, %d fonts", len(real), len(val), len(fonts))
    if not real and not fonts:
        raise ValueError("no training data: give iam_gt/extra_folders or fetch fonts (python -m training fonts)")
    return real, val, fonts


def train(cfg: TrainConfig) -> Path:
    """Run training; returns the path of the best (or last) ``.keras`` checkpoint."""
    import keras

    keras.utils.set_random_seed(cfg.seed)
    charset = Charset()
    spec = InputSpec(height=cfg.height, max_width=cfg.max_width)
    net = NetworkSpec(conv_filters=tuple(cfg.conv_filters), lstm_units=cfg.lstm_units,
                      lstm_layers=cfg.lstm_layers, dropout=cfg.dropout)
    real, val, fonts = load_data(cfg, charset, spec)
    maker = BatchMaker(spec, charset, real, fonts, cfg.batch_size, cfg.real_fraction,
                       cfg.synth_line_fraction, cfg.seed)
    val_items = prepare_validation(val, spec) if val else []

    class Batches(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__(workers=max(1, cfg.workers), use_multiprocessing=False,
                             max_queue_size=8)

        def __len__(self) -> int:
            return cfg.steps_per_epoch

        def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
            return maker.make(index)

    out = cfg.checkpoint_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(cfg.to_json(), indent=2))
    with _strategy(cfg.strategy).scope():
        if cfg.init_from:
            model = keras.models.load_model(os.path.expanduser(cfg.init_from), compile=False)
        else:
            model = build_crnn(spec.height, charset.num_classes, net)
        learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = cfg.learning_rate
        if cfg.lr_schedule == "cosine":
            learning_rate = keras.optimizers.schedules.CosineDecay(
                cfg.learning_rate, cfg.epochs * cfg.steps_per_epoch, alpha=cfg.min_learning_rate / cfg.learning_rate)
        optimizer = keras.optimizers.Adam(learning_rate, clipnorm=5.0)
        model.compile(optimizer=optimizer, loss=ctc_loss, jit_compile=False)

    class ValidationCER(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            if not val_items or logs is None:
                return
            preds = predict_texts(self.model, [t for t, _ in val_items], spec, charset)
            s = score([t for _, t in val_items], preds)
            logs["val_cer"], logs["val_wer"] = s.cer, s.wer
            print(f"\nepoch {epoch + 1}: val_cer={s.cer:.4f} val_wer={s.wer:.4f} | "
                  f"{val_items[len(val_items) // 2][1]!r} -> {preds[len(val_items) // 2]!r}", flush=True)

    monitor = "val_cer" if val_items else "loss"
    callbacks = [
        ValidationCER(),
        keras.callbacks.ModelCheckpoint(str(out / "best.keras"), monitor=monitor, mode="min", save_best_only=True),
        keras.callbacks.ModelCheckpoint(str(out / "last.keras")),
        keras.callbacks.BackupAndRestore(str(out / "backup")),
        keras.callbacks.EarlyStopping(monitor=monitor, mode="min", patience=cfg.early_stopping_patience),
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
    ]
    if cfg.lr_schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor=monitor, mode="min", factor=0.5,
                                                           patience=cfg.lr_patience, min_lr=cfg.min_learning_rate))
    model.fit(Batches(), epochs=cfg.epochs, callbacks=callbacks, verbose=cfg.verbose)
    best = out / "best.keras"
    return best if best.exists() else out / "last.keras"
