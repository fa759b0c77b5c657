"""Export a trained ``.keras`` model into a self-describing bundle (tflite + keras + model.json)."""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from model.bundle import ModelError, ModelInfo, bundled_model_dir, read_info, write_info
from model.charset import Charset
from model.decoder_config import DECODERS, DecoderConfig
from model.network import NetworkSpec, build_crnn
from model.preprocess import InputSpec
from model.tflite_weights import op_counts

log = logging.getLogger(__name__)

BATCH_SIZES = (1,)  # a fixed-batch-8 variant measured no faster per line on 2 CPU cores
LEXICON_FILE = "lexicon.tsv.gz"
LM_FILE = "charlm.arpa.gz"
#: The decoder a fresh bundle gets when there is no tuned configuration to keep (``tune-decoder`` refines it).
DEFAULT_DECODER = DecoderConfig(name="beam+lm", beam_width=20, token_beam=5, beam_threshold=5.0,
                                lm=LM_FILE, lm_weight=1.2, words=LEXICON_FILE, words_weight=0.2)


def network_spec_of(model: Any) -> NetworkSpec:
    """Recover the NetworkSpec from a built Keras CRNN."""
    convs = [layer.filters for layer in model.layers if layer.name.startswith("conv")]
    lstms = [layer for layer in model.layers if layer.name.startswith("bilstm")]
    drops = [layer.rate for layer in model.layers if layer.name.startswith("drop_")]
    downsample = 2 if any(layer.name == "repeat_frames" for layer in model.layers) else 4
    return NetworkSpec(conv_filters=tuple(convs), lstm_units=lstms[0].forward_layer.units,
                       lstm_layers=len(lstms), dropout=drops[0] if drops else 0.0, width_downsample=downsample)


def to_tflite(model: Any, height: int, num_classes: int, batch: int) -> bytes:
    """Convert with a fixed batch size and dynamic width; int8 weights; fused LSTM ops.

    The network is rebuilt in ``tf_keras`` (Keras 2) with the same weights: the converter turns its LSTM
    layers into fused ``UNIDIRECTIONAL_SEQUENCE_LSTM`` ops, where Keras 3 LSTMs become ``WHILE`` loops of
    single ops (measured 1.6x slower for a line). A fused op keeps its state between runs: callers reset the
    interpreter's variables before each ``invoke``.
    """
    import tensorflow as tf
    import tf_keras

    fixed = build_crnn(height, num_classes, network_spec_of(model), batch_size=batch, training_dropout=False,
                       api=tf_keras)
    weights = model.get_weights()
    shapes = [tuple(w.shape) for w in fixed.get_weights()]
    if shapes != [tuple(w.shape) for w in weights]:
        raise RuntimeError("the tf_keras twin of the network does not have the model's weight shapes")
    fixed.set_weights(weights)
    converter = tf.lite.TFLiteConverter.from_keras_model(fixed)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.optimizations = [tf.lite.Optimize.DEFAULT]  # int8 weights, dynamic-range: 4x smaller, ~3x faster
    data = without_cell_clip(bytes(converter.convert()))
    if "WHILE" in op_counts(data):
        log.warning("the LSTM layers were not fused: the model runs them as slower WHILE loops")
    return data


def without_cell_clip(data: bytes) -> bytes:
    """Fused LSTM ops without the cell clip (10) the converter writes: Keras clips nothing."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    tflite = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    changed = 0
    for sub in tflite.subgraphs:
        for op in sub.operators:
            options = op.builtinOptions
            if isinstance(options, schema.UnidirectionalSequenceLSTMOptionsT) and options.cellClip:
                options.cellClip = 0.0
                changed += 1
    if not changed:
        return data
    builder = flatbuffers.Builder(len(data) + 1024)
    builder.Finish(tflite.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@dataclass(frozen=True)
class Parity:
    """How far LiteRT's softmax is from Keras's on the same inputs."""

    max_diff: float  # largest |LiteRT - Keras| probability over every frame and class
    mean_diff: float
    disagreement: float  # share of frames whose most likely class differs (what greedy decoding would change)

    def ok(self, max_disagreement: float = 0.01, max_diff: float = 0.5) -> bool:
        """Close enough to ship: int8 weights move some probabilities, but hardly ever the best class."""
        return self.disagreement <= max_disagreement and self.max_diff <= max_diff

    def __str__(self) -> str:
        return (f"max softmax difference {self.max_diff:.3g}, mean {self.mean_diff:.2e}, "
                f"{self.disagreement:.2%} of frames with another best class")


def parity(model: Any, tflite: bytes, height: int, batch: int,
           widths: tuple[int, ...] = (16, 64, 400, 2000)) -> Parity:
    """LiteRT against Keras on random inputs of several widths, each run twice (a second run shows a state left
    over from the first)."""
    from ai_edge_litert.interpreter import Interpreter

    from model.decode import softmax

    interp = Interpreter(model_content=tflite, num_threads=2)
    idx = interp.get_input_details()[0]["index"]
    rng = np.random.default_rng(0)
    worst, diff_sum, differ, frames = 0.0, 0.0, 0, 0
    for w in widths:
        x = (rng.random((batch, height, w, 1)) > 0.8).astype(np.float32)
        interp.resize_tensor_input(idx, x.shape)
        interp.allocate_tensors()
        ref = softmax(np.asarray(model(x, training=False)))
        for _ in range(2):
            interp.reset_all_variables()
            interp.set_tensor(idx, x)
            interp.invoke()
            lite = softmax(interp.get_tensor(interp.get_output_details()[0]["index"]))
            diff = np.abs(lite - ref)
            worst = max(worst, float(diff.max()))
            diff_sum += float(diff.mean()) * ref.shape[0] * ref.shape[1]
            differ += int((lite.argmax(-1) != ref.argmax(-1)).sum())
            frames += ref.shape[0] * ref.shape[1]
    return Parity(worst, diff_sum / frames, differ / frames)


def write_lexicon(path: Path, n: int = 60000) -> None:
    """English word frequencies from wordfreq (a PyPI package), gzipped, for beam rescoring."""
    from wordfreq import top_n_list, word_frequency

    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for w in top_n_list("en", n):
            fh.write(f"{w}\t{word_frequency(w, 'en'):.3e}\n")


def previous_decoder(out: Path) -> DecoderConfig:
    """The decoder configuration of the bundle being replaced (tuned values are kept), else the default."""
    try:
        return read_info(out).decoder
    except ModelError:
        return DEFAULT_DECODER


def write_lm(path: Path, source: Path | None = None) -> None:
    """Put the character language model in the bundle: copied from ``source`` or the bundled model's file of the
    same name, else built (ARPA text; ``scripts/kenlm_binary.sh`` makes the binary form that loads faster)."""
    if path.exists():
        return
    candidates = [source] if source else [Path(str(bundled_model_dir() / path.name))]
    found = next((c for c in candidates if c is not None and c.is_file()), None)
    if found is not None:
        shutil.copyfile(found, path)
        return
    if source is not None:
        raise FileNotFoundError(f"language model not found: {source}")
    if not path.name.endswith((".arpa", ".arpa.gz")):
        raise FileNotFoundError(f"language model {path.name} not found: build it with scripts/kenlm_binary.sh")
    from training.charlm import build

    build(path)


def export(keras_path: Path, out: Path, version: str, *, trained_on: list[str], figures: dict[str, Any],
           decoder: str | None = None, height: int | None = None, max_width: int = 1600,
           lm: Path | None = None, data_counts: dict[str, Any] | None = None) -> ModelInfo:
    """Write ``out/`` with tflite files, the keras weights, the LM, the word list and model.json.

    The decoder configuration of a bundle already at ``out`` is kept (``decoder`` only renames it); raises if
    parity fails.
    """
    import keras

    model = keras.models.load_model(keras_path, compile=False)
    height = height or int(model.input_shape[1])
    charset = Charset()
    num_classes = int(model.output_shape[-1])
    if num_classes != charset.num_classes:
        raise ValueError(f"model has {num_classes} outputs, charset needs {charset.num_classes}")
    out.mkdir(parents=True, exist_ok=True)
    previous = previous_decoder(out).with_name(decoder)
    lm_name, words_name = previous.lm or LM_FILE, previous.words or LEXICON_FILE
    config = replace(previous, lm=lm_name, words=words_name)
    files = {}
    for batch in BATCH_SIZES:
        data = to_tflite(model, height, num_classes, batch)
        check = parity(model, data, height, batch)
        log.info("batch %d: %.1f kB, LiteRT against Keras: %s", batch, len(data) / 1e3, check)
        if not check.ok():
            raise RuntimeError(f"LiteRT output differs from Keras: {check}")
        name = f"crnn_b{batch}.tflite"
        (out / name).write_bytes(data)
        files[batch] = name
    model.save(out / "crnn.keras")  # loaded without compiling: weights only, no optimizer state
    write_lexicon(out / words_name)
    write_lm(out / lm_name, lm)
    info = ModelInfo(version=version, charset=charset, input_spec=InputSpec(height=height, max_width=max_width),
                     tflite=files, decoder=config, trained_on=trained_on, figures=figures,
                     extra={"network": network_spec_of(model).to_json(), "keras": "crnn.keras",
                            **({"data": data_counts} if data_counts else {})})
    write_info(out, info)
    read_info(out)  # round trip
    return info


def main(argv: list[str] | None = None) -> int:
    """``python -m training export CHECKPOINT [--out resources/model] ...``."""
    p = argparse.ArgumentParser(prog="python -m training export")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--out", type=Path, default=Path("resources/model"))
    p.add_argument("--version", required=True)
    p.add_argument("--decoder", choices=DECODERS, help="default decoder (else the replaced bundle's, or beam+lm+words)")
    p.add_argument("--lm", type=Path, help="character LM (ARPA, gzipped) to bundle (else the bundled one, else built)")
    p.add_argument("--trained-on", action="append", default=[], help="a line describing the training data")
    p.add_argument("--figures", type=Path, help="JSON of measured validation figures to record")
    p.add_argument("--data", type=Path, help="JSON of training-data counts to record (a run's data.json)")
    args = p.parse_args(argv)
    figures = json.loads(args.figures.read_text()) if args.figures else {}
    info = export(args.checkpoint, args.out, args.version, trained_on=args.trained_on, figures=figures,
                  decoder=args.decoder, lm=args.lm,
                  data_counts=json.loads(args.data.read_text()) if args.data else None)
    print(json.dumps({k: v for k, v in info.to_json().items() if k != "charset"}, indent=2))
    return 0
