"""Read and rewrite the CRNN's recurrent and output weights inside a ``.tflite`` file (no TensorFlow)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.bundle import ModelError

_INT8 = 9
_FLOAT32 = 0
_BILSTM = re.compile(r"bilstm(\d+)")
#: A fused LSTM op's inputs holding the input, recurrent and bias weights of the gates i, f, c, o.
_FUSED_INPUTS = {"kernel": (1, 2, 3, 4), "recurrent": (5, 6, 7, 8), "bias": (12, 13, 14, 15)}


@dataclass(frozen=True)
class TensorRef:
    """Where one constant weight lives: subgraph and tensor index."""

    subgraph: int
    tensor: int


def _schema():  # type: ignore[no-untyped-def]
    from ai_edge_litert import schema_py_generated

    return schema_py_generated


def _op_names() -> dict[int, str]:
    ops = _schema().BuiltinOperator
    return {int(v): k for k, v in vars(ops).items() if not k.startswith("_") and isinstance(v, int)}


def op_counts(data: bytes) -> dict[str, int]:
    """How many ops of each kind the main graph of a ``.tflite`` model runs."""
    model = _schema().ModelT.InitFromPackedBuf(bytearray(data), 0)
    names = _op_names()
    counts: dict[str, int] = {}
    for op in model.subgraphs[0].operators:
        code = model.operatorCodes[op.opcodeIndex]
        name = names.get(max(int(code.builtinCode), int(code.deprecatedBuiltinCode)), "?")
        counts[name] = counts.get(name, 0) + 1
    return counts


class TfliteWeights:
    """The trainable weights of the last layers of a CRNN ``.tflite``: the BiLSTMs' cells and the logits layer.

    Keys: ``logits/kernel`` (in, classes), ``logits/bias``; ``bilstm{j}/{forward|backward}/{kernel|recurrent|bias}``
    in Keras layout ((in, 4u), (u, 4u), (4u,), gates i, f, c, o). Shapes are read from the file, never assumed.
    Both exports are understood: LSTMs as ``WHILE`` loops (one (4u, in) matrix a direction) and fused
    ``UNIDIRECTIONAL_SEQUENCE_LSTM`` ops (a matrix a gate, joined here). ``refs`` maps a key to its tensors.
    """

    def __init__(self, data: bytes) -> None:
        schema = _schema()
        try:
            self._model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
        except Exception as exc:  # noqa: BLE001 - any parse failure means "not a usable model"
            raise ModelError(f"the .tflite file cannot be parsed ({exc})") from None
        self.refs: dict[str, tuple[TensorRef, ...]] = {}
        self._find_logits()
        self._find_lstms()
        self._find_fused_lstms()

    # --- locating the weights -------------------------------------------------------------------------------
    def _const(self, g: int, t: int) -> bool:
        tensor = self._model.subgraphs[g].tensors[t]
        data = self._model.buffers[tensor.buffer].data
        return data is not None and len(data) > 0

    def _find_logits(self) -> None:
        main = self._model.subgraphs[0]
        for t, tensor in enumerate(main.tensors):
            name = tensor.name.decode(errors="replace")
            if "logits" not in name or tensor.type not in (_INT8, _FLOAT32) or not self._const(0, t):
                continue
            if len(tensor.shape) == 2:
                self.refs["logits/kernel"] = (TensorRef(0, t),)
            elif len(tensor.shape) == 1:
                self.refs["logits/bias"] = (TensorRef(0, t),)
        if "logits/kernel" not in self.refs or "logits/bias" not in self.refs:
            raise ModelError("this model's output layer cannot be found in its .tflite file")

    def _find_lstms(self) -> None:
        for g, sub in enumerate(self._model.subgraphs):
            name = (sub.name or b"").decode(errors="replace")
            match = _BILSTM.search(name)
            if not match or not name.endswith("while_body"):
                continue
            direction = "backward" if "backward" in name else "forward"
            prefix = f"bilstm{match.group(1)}/{direction}"
            consts = [t for t in range(len(sub.tensors)) if self._const(g, t)]
            mats = [t for t in consts if len(sub.tensors[t].shape) == 2]
            vecs = [t for t in consts if len(sub.tensors[t].shape) == 1 and sub.tensors[t].shape[0] > 4]
            if len(mats) != 2 or len(vecs) != 1:
                continue
            units = int(sub.tensors[vecs[0]].shape[0]) // 4
            rec = [t for t in mats if int(sub.tensors[t].shape[1]) == units]
            ker = [t for t in mats if t not in rec[:1]]
            if not rec or not ker:
                continue
            self.refs[f"{prefix}/recurrent"] = (TensorRef(g, rec[0]),)
            self.refs[f"{prefix}/kernel"] = (TensorRef(g, ker[0]),)
            self.refs[f"{prefix}/bias"] = (TensorRef(g, vecs[0]),)

    def _op_name(self, op: Any) -> str:
        code = self._model.operatorCodes[op.opcodeIndex]
        return _op_names().get(max(int(code.builtinCode), int(code.deprecatedBuiltinCode)), "")

    def _find_fused_lstms(self) -> None:
        """Fused LSTM ops (one per direction, per-gate weights); the backward one reads a reversed sequence."""
        main = self._model.subgraphs[0]
        producer = {int(t): op for op in main.operators for t in op.outputs}
        consumers: dict[int, list[Any]] = {}
        for op in main.operators:
            for t in op.inputs:
                consumers.setdefault(int(t), []).append(op)
        for op in main.operators:
            if self._op_name(op) != "UNIDIRECTIONAL_SEQUENCE_LSTM":
                continue
            source = producer.get(int(op.inputs[0]))
            direction = "backward" if source is not None and self._op_name(source) == "REVERSE_V2" else "forward"
            around = [int(t) for t in op.outputs]
            around += [int(t) for c in consumers.get(around[0], []) for t in c.outputs]
            match = next((m for t in around if (m := _BILSTM.search(main.tensors[t].name.decode(errors="replace")))),
                         None)
            if match is None:
                continue
            prefix = f"bilstm{match.group(1)}/{direction}"
            for part, inputs in _FUSED_INPUTS.items():
                self.refs[f"{prefix}/{part}"] = tuple(TensorRef(0, int(op.inputs[i])) for i in inputs)

    @property
    def lstm_layers(self) -> int:
        """How many BiLSTM layers were found (both directions present)."""
        n = 0
        while f"bilstm{n}/forward/kernel" in self.refs and f"bilstm{n}/backward/kernel" in self.refs:
            n += 1
        return n

    # --- reading and writing ---------------------------------------------------------------------------------
    def _tensors(self, key: str) -> list[Any]:
        return [self._model.subgraphs[r.subgraph].tensors[r.tensor] for r in self.refs[key]]

    def get(self, key: str) -> np.ndarray:
        """The weight as float32 in Keras layout (dequantized if stored as int8; fused gates joined)."""
        parts = [self._value(key, tensor) for tensor in self._tensors(key)]
        value = np.concatenate(parts) if len(parts) > 1 else parts[0]
        return value.T.copy() if value.ndim == 2 else value  # LiteRT stores (out, in); Keras uses (in, out)

    def _value(self, key: str, tensor: Any) -> np.ndarray:
        raw = np.asarray(self._model.buffers[tensor.buffer].data, dtype=np.uint8)
        shape = tuple(int(s) for s in tensor.shape)
        if tensor.type == _INT8:
            q = raw.view(np.int8).reshape(shape).astype(np.float32)
            scale = np.asarray(tensor.quantization.scale, dtype=np.float32)
            zero = np.asarray(tensor.quantization.zeroPoint if tensor.quantization.zeroPoint is not None else [0])
            axis = int(tensor.quantization.quantizedDimension or 0)
            bshape = [1] * len(shape)
            bshape[axis] = -1
            return (q - zero.reshape(bshape if zero.size > 1 else [1] * len(shape))) * scale.reshape(
                bshape if scale.size > 1 else [1] * len(shape))
        if tensor.type == _FLOAT32:
            return raw.view(np.float32).reshape(shape).copy()
        raise ModelError(f"weight {key} has an unsupported type ({tensor.type})")

    def set(self, key: str, value: np.ndarray) -> None:
        """Store ``value`` (Keras layout) with each tensor's own type (int8 per channel or per tensor, float32)."""
        tensors = self._tensors(key)
        value = np.asarray(value, dtype=np.float32)
        stored = value.T if value.ndim == 2 else value
        total = sum(int(t.shape[0]) for t in tensors)
        if stored.shape[0] != total or any(tuple(stored.shape[1:]) != tuple(int(s) for s in t.shape[1:])
                                           for t in tensors):
            raise ValueError(f"{key}: shape {stored.shape} does not match {[tuple(t.shape) for t in tensors]}")
        start = 0
        for tensor in tensors:
            n = int(tensor.shape[0])
            self._store(tensor, stored[start: start + n])
            start += n

    def _store(self, tensor: Any, stored: np.ndarray) -> None:
        if tensor.type == _INT8:
            axis = int(tensor.quantization.quantizedDimension or 0)
            per_channel = tensor.quantization.scale is not None and len(tensor.quantization.scale) > 1
            moved = np.moveaxis(stored, axis, 0).reshape(stored.shape[axis] if per_channel else 1, -1)
            scale = np.maximum(np.abs(moved).max(axis=1), 1e-12) / 127.0
            bshape = [1] * stored.ndim
            if per_channel:
                bshape[axis] = -1
            q = np.clip(np.rint(stored / scale.reshape(bshape)), -127, 127).astype(np.int8)
            tensor.quantization.scale = [float(s) for s in scale]
            tensor.quantization.zeroPoint = [0] * len(scale)
            data = q.tobytes()
        else:
            data = np.ascontiguousarray(stored, dtype=np.float32).tobytes()
        self._model.buffers[tensor.buffer].data = np.frombuffer(data, dtype=np.uint8).copy()

    def to_bytes(self) -> bytes:
        """The model re-serialised with the current weights."""
        import flatbuffers

        builder = flatbuffers.Builder(1024)
        builder.Finish(self._model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())
