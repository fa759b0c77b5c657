"""CTC decoding: greedy and prefix beam search with optional word-frequency rescoring."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model.charset import Charset


@dataclass(frozen=True)
class Decoded:
    """Text with per-character confidences (one per output character)."""

    text: str
    char_confidences: tuple[float, ...]

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


def greedy_decode(probs: np.ndarray, charset: Charset) -> Decoded:
    """Best path: argmax per frame, merge repeats, drop blanks; confidence = max prob of each kept frame run."""
    best = probs.argmax(axis=-1)
    ids: list[int] = []
    confs: list[float] = []
    prev = 0
    for t, k in enumerate(best):
        k = int(k)
        if k != 0 and k != prev:
            ids.append(k)
            confs.append(float(probs[t, k]))
        elif k != 0 and k == prev:
            confs[-1] = max(confs[-1], float(probs[t, k]))
        prev = k
    return Decoded(charset.decode(ids), tuple(confs))


WordScorer = Callable[[str], float]


def beam_decode(probs: np.ndarray, charset: Charset, beam_width: int = 16,
                word_score: WordScorer | None = None, prune: float = 1e-3) -> Decoded:
    """CTC prefix beam search; ``word_score(word)`` (a log-prob bonus) is added as each word completes."""
    T, C = probs.shape
    space = charset.encode(" ")[0] if " " in charset.chars else -1
    log = np.log(np.maximum(probs, 1e-12)).tolist()  # plain floats: the loop below is pure Python
    keep = [np.nonzero(row > prune)[0].tolist() for row in probs]
    # beam: prefix tuple -> (log p_blank, log p_nonblank)
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, -np.inf)}
    bonus: dict[tuple[int, ...], float] = {(): 0.0}

    def last_word(prefix: tuple[int, ...]) -> str:
        j = len(prefix) - 1
        while j >= 0 and prefix[j] == space:
            j -= 1
        end = j + 1
        while j >= 0 and prefix[j] != space:
            j -= 1
        return charset.decode(list(prefix[j + 1: end]))

    def lm(prefix: tuple[int, ...]) -> float:
        """Sum of the word scores of the words completed (closed by a space) in ``prefix``."""
        if word_score is None or not prefix:
            return 0.0
        cached = bonus.get(prefix)
        if cached is not None:
            return cached
        value = lm(prefix[:-1])
        if prefix[-1] == space and len(prefix) > 1 and prefix[-2] != space:
            word = last_word(prefix)
            if word:
                value += word_score(word)
        bonus[prefix] = value
        return value

    for t in range(T):
        row = log[t]
        candidates = keep[t]
        nxt: dict[tuple[int, ...], list[float]] = {}

        def add(prefix: tuple[int, ...], pb: float, pnb: float, nxt: dict = nxt) -> None:
            cur = nxt.get(prefix)
            if cur is None:
                nxt[prefix] = [pb, pnb]
            else:
                cur[0] = _logaddexp(cur[0], pb)
                cur[1] = _logaddexp(cur[1], pnb)

        for prefix, (pb, pnb) in beams.items():
            total = _logaddexp(pb, pnb)
            for k in candidates:
                p = row[k]
                if k == 0:
                    add(prefix, total + p, -np.inf)
                    continue
                last = prefix[-1] if prefix else None
                new = prefix + (k,)
                if k == last:
                    add(new, -np.inf, pb + p)  # repeat needs a blank in between
                    add(prefix, -np.inf, pnb + p)  # collapse
                else:
                    add(new, -np.inf, total + p)
        scored = sorted(nxt.items(), key=lambda kv: _logaddexp(*kv[1]) + lm(kv[0]), reverse=True)
        beams = {k: (v[0], v[1]) for k, v in scored[:beam_width]}

    def final(item: tuple[tuple[int, ...], tuple[float, float]]) -> float:
        prefix, (pb, pnb) = item
        extra = 0.0
        if word_score is not None and prefix and prefix[-1] != space:
            word = last_word(prefix)
            if word:
                extra = word_score(word)
        return _logaddexp(pb, pnb) + lm(prefix) + extra

    best_prefix = max(beams.items(), key=final)[0]
    return Decoded(charset.decode(list(best_prefix)), _align_confidences(probs, list(best_prefix)))


def _logaddexp(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) for Python floats (much faster than numpy on scalars)."""
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


def _align_confidences(probs: np.ndarray, ids: list[int]) -> tuple[float, ...]:
    """Confidence per character of a decoded label: CTC forced alignment (Viterbi), best frame per label."""
    if not ids:
        return ()
    T = probs.shape[0]
    ext = [0]
    for k in ids:
        ext += [k, 0]
    S = len(ext)
    logp = np.log(np.maximum(probs[:, ext], 1e-12))  # (T, S)
    ext_arr = np.array(ext)
    # a skip from s-2 is allowed into a label that differs from the label two back
    can_skip = np.zeros(S, dtype=bool)
    can_skip[2:] = (ext_arr[2:] != 0) & (ext_arr[2:] != ext_arr[:-2])
    score = np.full(S, -np.inf)
    score[0] = logp[0, 0]
    if S > 1:
        score[1] = logp[0, 1]
    back = np.zeros((T, S), dtype=np.int8)  # 0 stay, 1 from s-1, 2 from s-2
    for t in range(1, T):
        stay = score
        step = np.concatenate([[-np.inf], score[:-1]])
        skip = np.where(can_skip, np.concatenate([[-np.inf, -np.inf], score[:-2]]), -np.inf)
        choices = np.stack([stay, step, skip])
        back[t] = choices.argmax(axis=0)
        score = choices.max(axis=0) + logp[t]
    s_end = S - 1 if S < 2 or score[S - 1] >= score[S - 2] else S - 2
    best = np.zeros(len(ids))
    s_cur = s_end
    for t in range(T - 1, -1, -1):
        if ext[s_cur] != 0:
            j = (s_cur - 1) // 2
            best[j] = max(best[j], probs[t, ext[s_cur]])
        s_cur -= int(back[t, s_cur])
        if s_cur < 0:
            break
    return tuple(float(c) for c in best)


def harmonize_case(text: str) -> str:
    """Upper-case text written mostly in capitals (block-capital names: ``PRoclAIming`` -> ``PROCLAIMING``).

    If at least 60 % of the letters (and at least two) are capitals, the whole text is upper-cased.
    """
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 2 and sum(c.isupper() for c in letters) >= 0.6 * len(letters):
        return text.upper()
    return text
