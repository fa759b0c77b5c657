"""Read and rewrite the CRNN's recurrent and output weights inside a ``.tflite`` file (no TensorFlow)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from model.bundle import ModelError

_INT8 = 9
_FLOAT32 = 0
_BILSTM = re.compile(r"bilstm(\d+)")


@dataclass(frozen=True)
class TensorRef:
    """Where one constant weight lives: subgraph and tensor index."""

    subgraph: int
    tensor: int


def _schema():  # type: ignore[no-untyped-def]
    from ai_edge_litert import schema_py_generated

    return schema_py_generated


class TfliteWeights:
    """The trainable weights of the last layers of a CRNN ``.tflite``: the BiLSTMs' cells and the logits layer.

    Keys: ``logits/kernel`` (in, classes), ``logits/bias``; ``bilstm{j}/{forward|backward}/{kernel|recurrent|bias}``
    in Keras layout ((in, 4u), (u, 4u), (4u,), gates i, f, c, o). Shapes are read from the file, never assumed.
    """

    def __init__(self, data: bytes) -> None:
        schema = _schema()
        try:
            self._model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
        except Exception as exc:  # noqa: BLE001 - any parse failure means "not a usable model"
            raise ModelError(f"the .tflite file cannot be parsed ({exc})") from None
        self.refs: dict[str, TensorRef] = {}
        self._find_logits()
        self._find_lstms()

    # --- locating the weights -------------------------------------------------------------------------------
    def _const(self, g: int, t: int) -> bool:
        tensor = self._model.subgraphs[g].tensors[t]
        data = self._model.buffers[tensor.buffer].data
        return data is not None and len(data) > 0

    def _find_logits(self) -> None:
        main = self._model.subgraphs[0]
        for t, tensor in enumerate(main.tensors):
            name = tensor.name.decode(errors="replace")
            if "logits" not in name or not self._const(0, t):
                continue
            if len(tensor.shape) == 2:
                self.refs["logits/kernel"] = TensorRef(0, t)
            elif len(tensor.shape) == 1:
                self.refs["logits/bias"] = TensorRef(0, t)
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
            self.refs[f"{prefix}/recurrent"] = TensorRef(g, rec[0])
            self.refs[f"{prefix}/kernel"] = TensorRef(g, ker[0])
            self.refs[f"{prefix}/bias"] = TensorRef(g, vecs[0])

    @property
    def lstm_layers(self) -> int:
        """How many BiLSTM layers were found (both directions present)."""
        n = 0
        while f"bilstm{n}/forward/kernel" in self.refs and f"bilstm{n}/backward/kernel" in self.refs:
            n += 1
        return n

    # --- reading and writing ---------------------------------------------------------------------------------
    def _tensor(self, key: str):  # type: ignore[no-untyped-def]
        ref = self.refs[key]
        return self._model.subgraphs[ref.subgraph].tensors[ref.tensor]

    def get(self, key: str) -> np.ndarray:
        """The weight as float32 in Keras layout (dequantized if stored as int8)."""
        tensor = self._tensor(key)
        raw = np.asarray(self._model.buffers[tensor.buffer].data, dtype=np.uint8)
        shape = tuple(int(s) for s in tensor.shape)
        if tensor.type == _INT8:
            q = raw.view(np.int8).reshape(shape).astype(np.float32)
            scale = np.asarray(tensor.quantization.scale, dtype=np.float32)
            zero = np.asarray(tensor.quantization.zeroPoint if tensor.quantization.zeroPoint is not None else [0])
            axis = int(tensor.quantization.quantizedDimension or 0)
            bshape = [1] * len(shape)
            bshape[axis] = -1
            value = (q - zero.reshape(bshape if zero.size > 1 else [1] * len(shape))) * scale.reshape(
                bshape if scale.size > 1 else [1] * len(shape))
        elif tensor.type == _FLOAT32:
            value = raw.view(np.float32).reshape(shape).copy()
        else:
            raise ModelError(f"weight {key} has an unsupported type ({tensor.type})")
        return value.T.copy() if value.ndim == 2 else value  # LiteRT stores (out, in); Keras uses (in, out)

    def set(self, key: str, value: np.ndarray) -> None:
        """Store ``value`` (Keras layout) with the tensor's own type (per-channel int8 or float32)."""
        tensor = self._tensor(key)
        value = np.asarray(value, dtype=np.float32)
        stored = value.T if value.ndim == 2 else value
        if tuple(stored.shape) != tuple(int(s) for s in tensor.shape):
            raise ValueError(f"{key}: shape {stored.shape} does not match {tuple(tensor.shape)}")
        if tensor.type == _INT8:
            axis = int(tensor.quantization.quantizedDimension or 0)
            moved = np.moveaxis(stored, axis, 0).reshape(stored.shape[axis], -1)
            scale = np.maximum(np.abs(moved).max(axis=1), 1e-12) / 127.0
            bshape = [1] * stored.ndim
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
