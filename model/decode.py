"""CTC decoding basics: softmax, greedy best path, character runs, words and the block-capitals case rule."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from model.charset import Charset

#: How the language model spells the space between words (KenLM tokens are separated by spaces).
SPACE_TOKEN = "|"


@dataclass(frozen=True)
class DecodedWord:
    """One word of a reading: text, confidence (0..1), frame span and other readings of the same place."""

    text: str
    confidence: float
    start: int = 0  # first output frame
    end: int = 0  # last output frame (inclusive)
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decoded:
    """Text with per-character confidences (one per output character) and its words."""

    text: str
    char_confidences: tuple[float, ...]
    words: tuple[DecodedWord, ...] = field(default_factory=tuple)

    @property
    def confidence(self) -> float:
        """Line confidence: geometric mean of the character confidences (1.0 when empty)."""
        if not self.char_confidences:
            return 1.0
        return float(np.exp(np.mean(np.log(np.maximum(self.char_confidences, 1e-6)))))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, numerically stable."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-softmax over the last axis, numerically stable."""
    z = logits - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def char_runs(path: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """From a frame path (label per frame, 0 = blank): each emitted character's id, first and last frame and
    confidence (its best frame's probability)."""
    if len(path) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0)
    change = np.ones(len(path), dtype=bool)
    change[1:] = path[1:] != path[:-1]
    run_start = np.nonzero(change)[0]
    run_end = np.append(run_start[1:], len(path)) - 1
    labels = path[run_start]
    frame_probs = probs[np.arange(len(path)), path]
    run_best = np.maximum.reduceat(frame_probs, run_start)
    keep = labels != 0
    return labels[keep], run_start[keep], run_end[keep], run_best[keep]


def split_words(text: str, starts: np.ndarray, ends: np.ndarray) -> tuple[tuple[str, int, int, int, int], ...]:
    """Words of ``text`` (one character per entry of ``starts``/``ends``) as (text, first char, end char,
    first frame, last frame)."""
    words = []
    i = 0
    n = len(text)
    while i < n:
        if text[i] == " ":
            i += 1
            continue
        j = text.find(" ", i)
        j = n if j < 0 else j
        words.append((text[i:j], i, j, int(starts[i]), int(ends[j - 1])))
        i = j
    return tuple(words)


def greedy_length(logits: np.ndarray) -> int:
    """How many characters a greedy reading of (frames, classes) logits has (blank = class 0)."""
    best = logits.argmax(-1)
    starts = np.ones(len(best), bool)
    starts[1:] = best[1:] != best[:-1]
    return int(np.count_nonzero(best[starts]))


def greedy_decode(probs: np.ndarray, charset: Charset) -> Decoded:
    """Best path: argmax per frame, merge repeats, drop blanks; confidence = max prob of each kept frame run."""
    ids, starts, ends, confs = char_runs(probs.argmax(axis=-1), probs)
    text = charset.decode(ids.tolist())
    words = []
    for word, c0, c1, f0, f1 in split_words(text, starts, ends):
        conf = float(np.exp(np.mean(np.log(np.maximum(confs[c0:c1], 1e-6)))))
        words.append(DecodedWord(word, conf, f0, f1))
    decoded = Decoded(text, tuple(float(c) for c in confs), tuple(words))
    return with_case_rule(decoded)


def with_case_rule(decoded: Decoded) -> Decoded:
    """Apply ``harmonize_case`` to the text and, if it changed the text, to its words and alternatives."""
    text = harmonize_case(decoded.text)
    if text == decoded.text:
        return decoded
    words = tuple(DecodedWord(w.text.upper(), w.confidence, w.start, w.end,
                              tuple(dict.fromkeys(a.upper() for a in w.alternatives if a.upper() != w.text.upper())))
                  for w in decoded.words)
    return Decoded(text, decoded.char_confidences, words)


def is_block_capitals(word: str) -> bool:
    """Whether a word is written in capitals (at least two letters, all upper-case)."""
    letters = list(filter(str.isalpha, word))
    return len(letters) >= 2 and all(map(str.isupper, letters))


def mostly_capitals(text: str) -> bool:
    """Whether at least 60 % of the letters (and at least two) are capitals."""
    letters = list(filter(str.isalpha, text))
    return len(letters) >= 2 and sum(map(str.isupper, letters)) >= 0.6 * len(letters)


def harmonize_case(text: str) -> str:
    """Upper-case text written mostly in capitals (block-capital names: ``PRoclAIming`` -> ``PROCLAIMING``)."""
    return text.upper() if mostly_capitals(text) else text
