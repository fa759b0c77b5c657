"""Native CTC beam search (flashlight-text) with a KenLM character n-gram, n-best word-list rescoring and
word confidences from the n-best posterior."""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import numpy as np

from model.charset import Charset
from model.decode import (
    SPACE_TOKEN,
    Decoded,
    DecodedWord,
    char_runs,
    is_block_capitals,
    log_softmax,
    mostly_capitals,
    split_words,
    with_case_rule,
)
from model.decoder_config import DecoderConfig
from model.lexicon import Lexicon

log = logging.getLogger(__name__)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence native writes to stderr (file descriptor 2) for the duration (KenLM's progress bar)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@dataclass(frozen=True)
class Hypothesis:
    """One n-best reading: its words (with frame spans), its total score and its frame path (searched frames)."""

    text: str
    ids: np.ndarray
    char_confidences: np.ndarray
    words: tuple[tuple[str, int, int, int, int], ...]  # (text, first char, end char, first frame, last frame)
    score: float
    path: np.ndarray | None = None  # label per searched frame (blank = 0)


@dataclass(frozen=True)
class Search:
    """The n-best hypotheses of one line, best first, the words of its greedy (best path) reading, each output
    frame's entropy and, for each character of the best hypothesis, how likely its other case was."""

    hyps: list[Hypothesis]
    greedy_words: tuple[tuple[str, int, int, int, int], ...]
    entropy: np.ndarray = field(default_factory=lambda: np.zeros(0))  # nats, per output frame
    case_doubt: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per character of hyps[0]: see case_doubt


class BeamDecoder:
    """A lexicon-free CTC beam search over characters, optionally guided by a character n-gram LM."""

    def __init__(self, charset: Charset, config: DecoderConfig, folder: Traversable | Path | None = None) -> None:
        from flashlight.lib.text.decoder import (
            CriterionType,
            LexiconFreeDecoder,
            LexiconFreeDecoderOptions,
            ZeroLM,
        )
        from flashlight.lib.text.dictionary import Dictionary

        self.charset = charset
        self.config = config
        tokens = ["<blank>"] + [SPACE_TOKEN if c == " " else c for c in charset.chars]
        self.space = tokens.index(SPACE_TOKEN) if SPACE_TOKEN in tokens else -1
        lm = ZeroLM()
        if config.uses_lm and folder is not None and config.lm:
            from flashlight.lib.text.decoder.kenlm import KenLM

            path = folder / config.lm
            if not path.is_file():
                raise FileNotFoundError(f"language model missing: {path}")
            with resources.as_file(path) as local, quiet_stderr():  # KenLM draws a progress bar on stderr
                lm = KenLM(str(local), Dictionary(tokens))
        def decoder(lm_weight: float) -> Any:
            options = LexiconFreeDecoderOptions(
                config.beam_width, config.token_beam, config.beam_threshold, lm_weight if config.uses_lm else 0.0,
                config.space_score, config.log_add, CriterionType.CTC)
            return LexiconFreeDecoder(options, lm, max(self.space, 0), 0, [])

        self._lm = lm  # the decoders keep a reference, but keep ours too
        self._decoder = decoder(config.lm_weight)
        caps = config.lm_weight if config.caps_lm_weight is None else config.caps_lm_weight
        self._caps_decoder = self._decoder if caps == config.lm_weight else decoder(caps)
        self._chars = np.array(["", *charset.chars])  # label id -> character (blank -> "")
        self._swap = swapped_case_ids(charset)
        weights, names = config.confidence_weights, config.confidence_features
        if weights is not None and (len(names or FEATURES[: len(weights) - 1]) != len(weights) - 1
                                    or any(n not in FEATURES for n in names or ())):
            log.warning("the word-confidence weights do not match the known features; confidences are unfitted")
        self._word_scores: dict[str, float] = {}
        self._lm_scores: dict[str, float] = {}
        self.lexicon: Lexicon | None = None
        if folder is not None and config.words and (folder / config.words).is_file():
            self.lexicon = Lexicon.load(folder / config.words, weight=config.words_weight,
                                        unknown=config.words_unknown)

    def set_lexicon(self, lexicon: Lexicon | None) -> None:
        """Rescore with another word list from now on (personal adaptation tries the user's words)."""
        self.lexicon = lexicon
        self._word_scores.clear()

    def search(self, logits: np.ndarray) -> Search:
        """The final beam as n-best hypotheses (distinct texts), word-list rescored if configured; and the greedy
        reading's words."""
        full = log_softmax(logits)
        frames = skip_blanks(full, self.config.blank_skip)
        logp = np.ascontiguousarray(full[frames], dtype=np.float32)
        probs = np.exp(logp)
        g_ids, g_starts, g_ends, _ = char_runs(logp.argmax(axis=-1), probs)
        greedy_text = "".join(self._chars[g_ids].tolist())
        greedy = split_words(greedy_text, frames[g_starts], frames[g_ends])
        # Block capitals (names and form fields, mostly) get their own LM weight: prose knows few of them.
        decoder = self._caps_decoder if mostly_capitals(greedy_text) else self._decoder
        results = decoder.decode(logp.ctypes.data, logp.shape[0], logp.shape[1])
        hyps = self._hypotheses(results, frames, probs)
        entropy = -(np.exp(full) * full).sum(axis=1)
        doubt = case_doubt(hyps[0].path, probs, self._swap) if hyps and hyps[0].path is not None else np.zeros(0)
        return Search(hyps, greedy, entropy, doubt)

    def _hypotheses(self, results: list, frames: np.ndarray, probs: np.ndarray) -> list[Hypothesis]:
        """Distinct readings of the final beam within the n-best margin, best first."""
        if not results:
            return []
        top = max(r.score for r in results)
        keep = sorted((r for r in results if r.score >= top - self.config.nbest_margin), key=lambda r: -r.score)
        best: dict[str, Hypothesis] = {}
        for result in keep[: self.config.nbest]:
            path = np.asarray(result.tokens[1:-1], dtype=np.int64)
            ids, starts, ends, confs = char_runs(path, probs)
            text = "".join(self._chars[ids].tolist())
            score = float(result.score)
            words = split_words(text, frames[starts], frames[ends])
            if self.config.uses_words and self.lexicon is not None:
                score += sum(self._word_score(w[0]) for w in words)
            known = best.get(text)
            if known is None or known.score < score:  # same text, another alignment: keep the better one
                best[text] = Hypothesis(text, ids, confs, words, score, path)
        return sorted(best.values(), key=lambda h: h.score, reverse=True)

    def _word_score(self, word: str) -> float:
        """The word list's score; block capitals (names, mostly) are neutral so they are never 'corrected'."""
        cached = self._word_scores.get(word)
        if cached is None:
            assert self.lexicon is not None
            skip = self.config.words_skip_capitals and is_block_capitals(word)
            cached = self._word_scores[word] = 0.0 if skip else self.lexicon.score(word)
        return cached

    def _lm_per_char(self, word: str) -> float:
        """The LM's mean log10 probability per character of a word between spaces (0 without an LM)."""
        cached = self._lm_scores.get(word)
        if cached is None:
            cached = 0.0
            if self.config.uses_lm and word:
                state = self._lm.start(False)
                state, _ = self._lm.score(state, self.space)
                total = 0.0
                for idx in (*self.charset.encode(word), self.space):
                    state, score = self._lm.score(state, idx)
                    total += score
                cached = total / (len(word) + 1)
            self._lm_scores[word] = cached
        return cached

    def evidence(self, search: Search, temperature: float | None = None) -> list[WordEvidence]:
        """Confidence features and other readings of each word of the best hypothesis."""
        return word_evidence(search, self.config.nbest_temperature if temperature is None else temperature,
                             self.lexicon.contains if self.lexicon is not None else None, self._lm_per_char)

    def reading(self, search: Search, temperature: float | None = None) -> Decoded:
        """The best hypothesis with each word's confidence and alternatives (most likely first)."""
        if not search.hyps:
            return Decoded("", ())
        top = search.hyps[0]
        words = []
        for (text, _, _, f0, f1), ev in zip(top.words, self.evidence(search, temperature)):
            alternatives = tuple(sorted(ev.others, key=lambda w: -ev.others[w]))
            confidence = word_confidence(ev.features, self.config.confidence_weights, self.config.confidence_features)
            words.append(DecodedWord(text, confidence, f0, f1, alternatives))
        return with_case_rule(Decoded(top.text, tuple(float(c) for c in top.char_confidences), tuple(words)))

    def decode(self, logits: np.ndarray) -> Decoded:
        """The best reading with word confidences and per-word alternatives from the n-best list."""
        return self.reading(self.search(logits))


def skip_blanks(logp: np.ndarray, threshold: float) -> np.ndarray:
    """Frames worth searching: of each run of frames that are blank with probability above ``threshold``, only the
    first is kept (it still separates repeated characters); the others cannot change the result measurably."""
    sure = logp[:, 0] > np.log(threshold) if threshold < 1 else np.zeros(len(logp), dtype=bool)
    drop = sure.copy()
    drop[0] = False
    drop[1:] &= sure[:-1]
    return np.nonzero(~drop)[0]


def swapped_case_ids(charset: Charset) -> np.ndarray:
    """Label id -> the label id of the same letter in the other case (-1 when there is none; blank = 0)."""
    swap = np.full(len(charset.chars) + 1, -1, dtype=np.int64)
    index = {c: i + 1 for i, c in enumerate(charset.chars)}
    for c, i in index.items():
        other = c.swapcase()
        if other != c and len(other) == 1 and other in index:
            swap[i] = index[other]
    return swap


#: A log-probability ratio below any real one (1e-6 against 1): no other case, or no doubt at all.
NO_DOUBT = float(np.log(1e-6))


def case_doubt(path: np.ndarray, probs: np.ndarray, swap: np.ndarray) -> np.ndarray:
    """For each character emitted by a frame ``path`` (label per frame of ``probs``): log p(the same letter in the
    other case) - log p(the letter), at the frame where the letter is most likely; ``NO_DOUBT`` for a character
    without another case."""
    if len(path) == 0:
        return np.zeros(0)
    change = np.ones(len(path), dtype=bool)
    change[1:] = path[1:] != path[:-1]
    run_start = np.nonzero(change)[0]
    run_id = np.cumsum(change) - 1
    frame_probs = probs[np.arange(len(path)), path]
    run_best = np.maximum.reduceat(frame_probs, run_start)
    t = np.arange(len(path))
    best_frame = np.minimum.reduceat(np.where(frame_probs >= run_best[run_id], t, len(path)), run_start)
    labels = path[run_start]
    keep = labels != 0
    labels, best_frame = labels[keep], best_frame[keep]
    other = swap[labels]
    p_self = np.maximum(probs[best_frame, labels], 1e-6)
    p_other = np.maximum(probs[best_frame, np.maximum(other, 0)], 1e-6)
    return np.where(other > 0, np.maximum(np.log(p_other) - np.log(p_self), NO_DOUBT), NO_DOUBT)


#: What a word's confidence is computed from (``DecoderConfig.confidence_weights`` weighs the ones named by
#: ``confidence_features``, after a bias; a bundle without names uses the first ones, in this order).
FEATURES = ("log n-best agreement", "log mean character confidence", "log lowest character confidence",
            "1 / characters", "in the word list", "block capitals", "greedy reads it too",
            "LM log10 probability per character",
            "highest frame entropy", "frame entropy sum", "case doubt", "frames per character", "n-best readings",
            "highest entropy between words", "best other reading in the word list",
            "capitals line x in the word list", "capitals line x LM log10 probability per character",
            "capitals line x 1 / characters", "capitals line x neighbours' lowest character confidence")
_FEATURE_INDEX = {name: i for i, name in enumerate(FEATURES)}


@dataclass(frozen=True)
class WordEvidence:
    """The confidence features of one word of the top hypothesis and the other readings of its place."""

    features: np.ndarray
    others: dict[str, float]  # reading -> n-best posterior


def word_evidence(search: Search, temperature: float = 1.0, listed: Callable[[str], bool] | None = None,
                  lm_per_char: Callable[[str], float] | None = None) -> list[WordEvidence]:
    """For each word of the top hypothesis, the ``FEATURES``: the n-best posterior mass that reads the same word at
    the same place, its characters' confidences, length, word-list membership, case, whether the greedy reading
    agrees, its LM score, the network's doubt over its frames and the gaps beside it, whether its letters could be
    the other case, and the same for lines in capitals; and the other readings of its place with their posterior."""
    hyps = search.hyps
    scores = np.array([h.score for h in hyps]) / max(temperature, 1e-6)
    post = np.exp(scores - scores.max())
    post /= post.sum()
    top = hyps[0]
    caps_line = float(mostly_capitals(top.text))
    # Python lists: a line's words are few and short, and numpy calls on tiny slices cost more than the work.
    entropy = search.entropy.tolist()
    doubts = search.case_doubt.tolist()
    logc_all = np.log(np.maximum(top.char_confidences, 1e-6)).tolist()
    lowest = [min(logc_all[c0:c1]) if c1 > c0 else 0.0 for _, c0, c1, _, _ in top.words]
    evidence = []
    for k, (text, c0, c1, f0, f1) in enumerate(top.words):
        agree = 0.0
        others: dict[str, float] = {}
        for p, h in zip(post.tolist(), hyps):
            for wt, _, _, g0, g1 in h.words:
                if g1 >= f0 and g0 <= f1:  # overlapping frames
                    if wt == text:
                        agree += p
                        break
                    others[wt] = others.get(wt, 0.0) + p
        greedy = any(wt == text and g1 >= f0 and g0 <= f1 for wt, _, _, g0, g1 in search.greedy_words)
        logc = logc_all[c0:c1]
        span = entropy[f0: f1 + 1]
        before = entropy[top.words[k - 1][4] + 1 if k > 0 else 0: f0]
        after = entropy[f1 + 1: top.words[k + 1][3] if k + 1 < len(top.words) else len(entropy)]
        doubt = doubts[c0:c1]
        alternative = max(others, key=others.__getitem__) if others else None
        in_list = float(listed(text)) if listed else 0.0
        lm = lm_per_char(text) if lm_per_char else 0.0
        neighbours = lowest[max(0, k - 1): k] + lowest[k + 1: k + 2]
        features = np.array([
            math.log(min(1.0, max(agree, 1e-4))), sum(logc) / len(logc) if logc else 0.0, min(logc, default=0.0),
            1.0 / max(1, c1 - c0), in_list, float(is_block_capitals(text)), float(greedy), lm,
            max(span, default=0.0), sum(span), max(doubt, default=NO_DOUBT), (f1 - f0 + 1) / max(1, c1 - c0),
            float(len(hyps)), max(max(before, default=0.0), max(after, default=0.0)),
            float(listed(alternative)) if listed and alternative else 0.0,
            caps_line * in_list, caps_line * lm, caps_line / max(1, c1 - c0),
            caps_line * (min(neighbours) if neighbours else 0.0)])
        evidence.append(WordEvidence(features, others))
    return evidence


@functools.lru_cache(maxsize=16)
def _logistic(weights: tuple[float, ...], names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, int]:
    """The weights after the bias as an array, the positions of the named features in ``FEATURES`` (an unknown name
    gets one past the end) and the highest of them (-1 if none): made once, not for every word."""
    index = [_FEATURE_INDEX.get(n, len(FEATURES)) for n in names]
    return np.asarray(weights[1:]), np.asarray(index, dtype=np.intp), max(index, default=-1)


def word_confidence(features: np.ndarray, weights: tuple[float, ...] | None = None,
                    names: tuple[str, ...] | None = None) -> float:
    """A word's confidence: a logistic model of the features ``names`` (default: the first ones of ``FEATURES``)
    when weights were fitted on validation data, else n-best agreement times the square root of its characters'
    mean confidence."""
    if weights is not None:
        names = tuple(names) if names else FEATURES[: len(weights) - 1]
        coefficients, index, highest = _logistic(tuple(weights), names)
        if len(index) == len(weights) - 1 and highest < len(features):
            z = weights[0] + float(np.dot(coefficients, features[index]))
            return float(1.0 / (1.0 + math.exp(-min(max(z, -30.0), 30.0))))
    return float(np.exp(features[0] + 0.5 * features[1]))
