"""``Recognizer``: the small, Qt-free API that turns word/line images into text with confidences."""

from __future__ import annotations

import difflib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import numpy as np

from model.alignment import aligned_word_boxes
from model.beam import BeamDecoder, quiet_stderr
from model.bundle import ModelError, ModelInfo, model_folder, read_info
from model.decode import Decoded, greedy_decode, greedy_length, softmax
from model.decoder_config import DECODERS, DecoderConfig
from model.density import strokes
from model.imageio import ImageError
from model.input_spec import InputSpec
from model.lexicon import Lexicon, alternatives
from model.long_lines import piece_columns
from model.preprocess import PreparedLine, has_ink, pad_batch, prepare_line, prepare_line_parts

log = logging.getLogger(__name__)

DEFAULT_THREADS = 1  # measured: for this small network one thread is as fast as two (docs/benchmarks.md)
#: One crop's network reading: the crop as prepared, its logits (None if blank) and the input columns per frame.
Reading = tuple[PreparedLine, tuple[np.ndarray | None, int]]
POOL_SIZE = 10  # interpreters kept allocated, one per width bucket in use
# Inputs are right-padded up to one of a few widths: re-allocating an interpreter for a new width
# (XNNPACK repacks its weights) costs more than running it, so each bucket keeps its own interpreter.
WIDTH_BUCKETS = (64, 128, 256, 384, 512, 640, 768, 1024, 1280, 1600)


def bucket_width(width: int) -> int:
    """The padded width for an input ``width`` pixels wide."""
    return next((b for b in WIDTH_BUCKETS if b >= width), -(-width // 256) * 256)


def tensor_indices(interpreter: Any) -> tuple[int, int]:
    """The (input, output) tensor indices of an interpreter: the same for every interpreter of its model, whatever
    its input shape (asking LiteRT for them builds their whole details each time: 0.1 ms a run)."""
    return interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]


@dataclass(frozen=True)
class Word:
    """One recognized word, its confidence (0..1), other readings the decoder considered (most likely first) and
    its box (x, y, w, h) on the image where the network read it (None when not known)."""

    text: str
    confidence: float
    alternatives: tuple[str, ...] = ()
    box: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class Prediction:
    """The text of one image, its confidence, and its words."""

    text: str
    confidence: float
    words: tuple[Word, ...] = field(default_factory=tuple)


def prediction_of(decoded: Decoded, boxes: Sequence[tuple[int, int, int, int]] | None = None) -> Prediction:
    """The prediction of one decoded reading; its words' boxes on the image when known."""
    places = boxes if boxes is not None else [None] * len(decoded.words)
    words = tuple(Word(w.text, w.confidence, w.alternatives, box) for w, box in zip(decoded.words, places))
    return Prediction(decoded.text, decoded.confidence, words)


def joined(pieces: Sequence[Prediction]) -> Prediction:
    """One line's prediction from those of its pieces, left to right: texts joined by a space, the confidence
    their geometric mean weighted by length (as a line's is over its characters)."""
    read = [p for p in pieces if p.text]
    if not read:
        return Prediction("", 0.0)
    weights = np.array([len(p.text) for p in read], np.float64)
    logs = np.log(np.maximum([p.confidence for p in read], 1e-6))
    confidence = float(np.exp(np.sum(weights * logs) / weights.sum()))
    return Prediction(" ".join(p.text for p in read), confidence, tuple(w for p in read for w in p.words))


#: ``merged``: a word only one of two readings has is kept if it is more likely right than wrong.
KEEP_ALONE = 0.5


def _mean_confidence(words: Sequence[Word]) -> float:
    return float(np.mean([w.confidence for w in words])) if words else 0.0


def merged(first: Prediction, second: Prediction) -> Prediction:
    """Two readings of the same crop merged word by word.

    Where they agree: the word, with the higher of its two confidences. Where they differ word for word: the surer
    word, its confidence times the other's chance of being wrong, the other reading first among its alternatives.
    Where they split a stretch into different numbers of words: the stretch surer on average (the first on a tie).
    A stretch only one reading has is kept if its words' mean confidence reaches ``KEEP_ALONE``.

    Measured on the validation sets (model 0.8.0, ``training evaluate``): read as usual and again 1.25x wider
    than plain, merged, the held-out-font lines read at 3.61 % where keeping the reading whose words are surer on
    average read them at 4.12 %, the IAM lines at 6.24 against 6.32 % (docs/training.md, session 17)."""
    a, b = first.words, second.words
    matcher = difflib.SequenceMatcher(a=[w.text for w in a], b=[w.text for w in b], autojunk=False)
    words: list[Word] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        ours, theirs = a[i1:i2], b[j1:j2]
        if op == "equal":
            words += [replace(x, confidence=max(x.confidence, y.confidence)) for x, y in zip(ours, theirs)]
        elif op == "replace" and len(ours) == len(theirs):
            for x, y in zip(ours, theirs):
                kept, other = (y, x) if y.confidence > x.confidence else (x, y)
                alternatives = (other.text, *(t for t in kept.alternatives if t != other.text))
                # right only if the other reading is wrong there: the disagreement makes the kept word less sure
                confidence = kept.confidence * (1.0 - other.confidence)
                words.append(replace(kept, confidence=confidence, alternatives=alternatives))
        elif op == "replace":
            words += theirs if _mean_confidence(theirs) > _mean_confidence(ours) else ours
        else:  # a stretch only one reading has ("delete": the first's, "insert": the second's)
            alone = ours or theirs
            words += alone if _mean_confidence(alone) >= KEEP_ALONE else ()
    if [w.text for w in words] == [w.text for w in a]:
        return replace(first, words=tuple(words))
    surer = second if _mean_confidence(b) > _mean_confidence(a) else first
    return Prediction(" ".join(w.text for w in words), surer.confidence if words else 0.0, tuple(words))


class Recognizer:
    """Loads a model bundle once and recognizes batches of word or line images."""

    def __init__(self, folder: Traversable | Path, info: ModelInfo, decoder: str | None = None,
                 threads: int | None = None) -> None:
        self.folder = folder
        self.info = info
        self.config: DecoderConfig = info.decoder.with_name(decoder)  # ValueError for an unknown name
        self.decoder = self.config.name
        self.threads = threads or DEFAULT_THREADS
        self._downsample = int(info.extra.get("network", {}).get("width_downsample", 4))  # input columns per frame
        self._beam: BeamDecoder | None = None
        self._lexicon: Lexicon | None = None
        self._lock = threading.Lock()
        self.split_long_lines = True  # read lines too wide for the network in pieces (False: squeezed, as before)
        self._models: dict[int, bytes] = {}
        # Interpreters by (batch, width): re-allocating tensors for every new width costs as much as a run.
        self._pool: OrderedDict[tuple[int, int], Any] = OrderedDict()
        self._tensors: dict[int, tuple[int, int]] = {}  # batch -> (input, output) tensor index (any width)
        for batch, name in info.tflite.items():
            self._models[batch] = self._read(folder / name)
            self._pool[(batch, -1)] = interpreter = self._open(self._models[batch], name)
            self._tensors[batch] = tensor_indices(interpreter)
        if self.config.uses_beam:
            self._beam_decoder()  # loads the language model now (a third of a second), not at the first line

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, decoder: str | None = None,
             threads: int | None = None) -> Recognizer:
        """Load the bundled model (default) or the bundle folder at ``path``; raises ModelError."""
        folder = model_folder(path)
        return cls(folder, read_info(folder), decoder=decoder, threads=threads)

    @staticmethod
    def _read(file: Traversable | Path) -> bytes:
        if not file.is_file():
            raise ModelError(f"model file missing: {file}")
        return file.read_bytes()

    def _open(self, model: bytes, name: str, shape: tuple[int, ...] | None = None) -> Any:
        from ai_edge_litert.interpreter import Interpreter

        try:
            with quiet_stderr():  # LiteRT prints "INFO: Created TensorFlow Lite XNNPACK delegate" on fd 2
                interpreter = Interpreter(model_content=model, num_threads=self.threads)
                if shape is not None:
                    interpreter.resize_tensor_input(interpreter.get_input_details()[0]["index"], shape)
                interpreter.allocate_tensors()
                return interpreter
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"model file {name} cannot be loaded ({exc})") from None

    def _interpreter(self, shape: tuple[int, ...]) -> Any:
        """An interpreter allocated for this exact input shape (a small LRU pool)."""
        key = (shape[0], shape[2])
        interp = self._pool.get(key)
        if interp is None:
            same_batch = [k for k in self._pool if k[0] == shape[0]]
            if len(self._pool) >= POOL_SIZE and same_batch:  # re-allocate the least recently used one
                interp = self._pool.pop(same_batch[0])
                interp.resize_tensor_input(self._tensors[shape[0]][0], shape)
                interp.allocate_tensors()
            else:
                interp = self._open(self._models[shape[0]], "model", shape)
            self._pool[key] = interp
        self._pool.move_to_end(key)
        return interp

    @property
    def version(self) -> str:
        """The model's version string."""
        return self.info.version

    @property
    def low_confidence(self) -> float:
        """Words below this confidence should be flagged for checking (chosen on validation data)."""
        return self.config.low_confidence

    def _beam_decoder(self) -> BeamDecoder:
        if self._beam is None:
            try:
                self._beam = BeamDecoder(self.info.charset, self.config, self.folder)
            except (ImportError, OSError, RuntimeError, ValueError) as exc:
                raise ModelError(f"the {self.decoder} decoder cannot be set up ({exc})") from None
        return self._beam

    def lexicon(self) -> Lexicon | None:
        """The bundle's word list (loaded on first use), or None if it has none."""
        if self._lexicon is None and self.config.words:
            file = self.folder / self.config.words
            if file.is_file():
                self._lexicon = Lexicon.load(file, weight=self.config.words_weight, unknown=self.config.words_unknown)
        return self._lexicon

    def alternatives(self, word: Word, limit: int = 8) -> list[str]:
        """Other readings for a word: the decoder's n-best first, then close words from the word list."""
        return alternatives(word.text, word.alternatives, self.lexicon(), limit)

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Run the network on a padded batch (n, h, w, 1) -> (n, w/4, classes) logits."""
        n = batch.shape[0]
        sizes = sorted(self._models, reverse=True)
        outputs = []
        with self._lock:
            i = 0
            while i < n:
                size = next((s for s in sizes if s <= n - i), sizes[-1])
                chunk = batch[i: i + size]
                if chunk.shape[0] < size:  # pad the last chunk up to the interpreter's batch size
                    chunk = np.concatenate([chunk, np.zeros((size - chunk.shape[0], *chunk.shape[1:]), chunk.dtype)])
                interp = self._interpreter(chunk.shape)
                source, sink = self._tensors[size]
                interp.reset_all_variables()  # a fused LSTM op would otherwise start from the last run's state
                interp.set_tensor(source, np.ascontiguousarray(chunk))
                interp.invoke()
                out = interp.get_tensor(sink)  # a copy of the output, ours to keep
                outputs.append(out if size <= n - i else out[: n - i].copy())
                i += size
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)

    def decode(self, logits: np.ndarray) -> Decoded:
        """Decode one sequence of logits with the configured decoder."""
        if not self.config.uses_beam:
            return greedy_decode(softmax(logits), self.info.charset)
        beam = self._beam_decoder()
        with self._lock:  # one flashlight decoder object: not to be used from two threads at once
            return beam.decode(logits)

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """The network input for one image (the same function training uses)."""
        return prepare_line(image, self.info.input_spec)

    def recognize(self, images: Sequence[np.ndarray], max_batch: int | None = None) -> list[Prediction]:
        """Recognize word/line crops (any numpy image); batched by similar width.

        Raises ImageError for an empty or unusable image; blank crops give empty text. Each word gets the box
        where the network read it (``model.alignment``). A line too wide for the network is read in pieces cut
        at gaps between words (``model.long_lines``), their texts joined by a space.
        """
        spec = self.info.input_spec
        arrays = [np.asarray(img) if img is not None else img for img in images]
        pieces: list[PreparedLine] = []
        owners: list[tuple[int, int]] = []  # (image, x offset of the piece in it)
        for i, img in enumerate(arrays):
            part = prepare_line_parts(img, spec)
            columns = piece_columns(part, spec, img.shape[1]) if self.split_long_lines else None
            if columns is None:
                pieces.append(part)
                owners.append((i, 0))
            else:
                pieces.extend(prepare_line_parts(img[:, a:b], spec) for a, b in columns)
                owners.extend((i, a) for a, _ in columns)
        read: list[list[Prediction]] = [[] for _ in arrays]
        earlier: dict[int, Reading] = {}
        preds = []
        for k, ((_, offset), (part, (out, columns_per_frame))) in enumerate(
                zip(owners, self._read_parts(pieces, max_batch, earlier=earlier))):
            pred = self._prediction(part, out, columns_per_frame, offset)
            if k in earlier:  # a dense piece read again wider: its two readings merged word by word
                first, (first_out, first_columns) = earlier[k]
                pred = merged(self._prediction(first, first_out, first_columns, offset), pred)
            preds.append(pred)
        if self.config.two_widths:  # every piece again, wider than plain: the two readings merged word by word
            second = self.config.second_width
            wider = self._read_parts([p.stretched(self._spec(second)) for p in pieces], max_batch, second)
            preds = [merged(pred, self._prediction(part, out, columns_per_frame, offset))
                     for pred, (_, offset), (part, (out, columns_per_frame)) in zip(preds, owners, wider)]
        for (i, _), pred in zip(owners, preds):
            read[i].append(pred)
        return [preds[0] if len(preds) == 1 else joined(preds) for preds in read]

    def _prediction(self, part: PreparedLine, out: np.ndarray | None, columns_per_frame: int, offset: int
                    ) -> Prediction:
        """Decode one crop's logits; word boxes moved ``offset`` pixels right (a piece of a wider line)."""
        if out is None:
            return Prediction("", 0.0)
        d = self.decode(out)
        boxes = aligned_word_boxes([(w.start, w.end) for w in d.words], part, columns_per_frame)
        return prediction_of(d, [(x + offset, y, w, h) for x, y, w, h in boxes])

    def outputs(self, images: Sequence[np.ndarray], max_batch: int | None = None, stretch: float | None = None
                ) -> list[np.ndarray | None]:
        """The network's logits (frames, classes) for each crop, None for a blank one; batched by similar width.

        ``stretch``: read every crop that much wider, and never again (for tuning the dense-line settings).
        """
        return [out for _, (out, _) in self._read_lines(images, max_batch, stretch)]

    def density(self, part: PreparedLine) -> tuple[int, float]:
        """A crop prepared as it is: the frames its reading will have and the strokes of its ink ((0, 0) if blank)."""
        if part.cropped is None:
            return 0, 0.0
        return -(-part.width // self._downsample) + 2, strokes(part.ink)  # frames as ``_run`` keeps them

    def _read_lines(self, images: Sequence[np.ndarray], max_batch: int | None, stretch: float | None = None
                    ) -> list[Reading]:
        """Prepare and run every crop; a line written too densely for the network's frames is read wider.

        The network emits one frame per 4 input columns; small, tightly written letters get fewer than two frames
        each and are dropped or merged. A line whose ink looks that dense is read at once at a guessed stretch
        (horizontal, as ``InputSpec.x_scale`` would: the same preprocessing); a line whose reading turns out too
        dense (told by its length), or read at a stretch too far from what its reading asks for, is read again
        (``recognize`` merges both readings of such a line word by word, ``merged``).
        """
        spec = self._spec(stretch)
        return self._read_parts([prepare_line_parts(img, spec) for img in images], max_batch, stretch)

    def _spec(self, stretch: float | None) -> InputSpec:
        """The input spec, stretched ``stretch`` times wider when given."""
        spec = self.info.input_spec
        return spec if stretch is None else replace(spec, x_scale=spec.x_scale * stretch)

    def _read_parts(self, parts: list[PreparedLine], max_batch: int | None, stretch: float | None = None,
                    earlier: dict[int, Reading] | None = None) -> list[Reading]:
        """``_read_lines`` for crops already prepared (with the spec stretched by ``stretch`` when given).

        ``earlier``, when given, receives the first reading of each crop read again, by its index."""
        if stretch is not None or self.config.dense_below <= 0:  # a fixed stretch, or no dense-line reading: done
            return list(zip(parts, self._run([p.tensor for p in parts], max_batch)))
        guess = self.config.dense_guess > 0
        firsts = [self.config.guess_stretch(*self.density(p)) if guess else 1.0 for p in parts]
        parts = [p if s == 1.0 else p.stretched(self._spec(s)) for p, s in zip(parts, firsts)]
        runs = self._run([p.tensor for p in parts], max_batch)
        again = {i: self.config.again_stretch(firsts[i], out.shape[0], greedy_length(out))
                 for i, (out, _) in enumerate(runs) if out is not None}
        wider = {i: parts[i].stretched(self._spec(s)) for i, s in again.items() if s}
        for i, run in zip(wider, self._run([p.tensor for p in wider.values()], max_batch)):
            if run[0] is not None:
                if earlier is not None:
                    earlier[i] = (parts[i], runs[i])
                parts[i], runs[i] = wider[i], run
        return list(zip(parts, runs))

    def _run(self, tensors: list[np.ndarray], max_batch: int | None) -> list[tuple[np.ndarray | None, int]]:
        """Logits of each prepared tensor (None if blank) and the input columns per output frame."""
        spec = self.info.input_spec
        if max_batch is not None and (isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1):
            raise ValueError(f"max_batch must be a whole number of at least 1 (got {max_batch!r})")
        max_batch = max_batch or max(self._models)
        results: list[tuple[np.ndarray | None, int]] = [(None, 4)] * len(tensors)
        order = sorted(range(len(tensors)), key=lambda i: tensors[i].shape[1])
        for start in range(0, len(order), max_batch):
            idx = order[start: start + max_batch]
            chunk = [tensors[i] for i in idx]
            widest = max(t.shape[1] for t in chunk)
            width = bucket_width(widest)
            logits = self.logits(pad_batch(chunk, spec, width=width))
            downsample = max(1, round(width / logits.shape[1]))  # input columns per frame (4, or 2)
            for j, i in enumerate(idx):
                if has_ink(tensors[i]):
                    valid = -(-tensors[i].shape[1] // downsample)
                    results[i] = (logits[j, : max(1, valid + 2)], downsample)
        return results


__all__ = ["DECODERS", "ImageError", "ModelError", "Prediction", "Recognizer", "Word"]
