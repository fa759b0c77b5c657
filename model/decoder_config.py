"""The one decoder configuration: names, beam, pruning, language-model and word-list weights (from ``model.json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

#: Every decoder, in order of cost, with the label the app shows.
DECODER_LABELS = {
    "greedy": "Greedy (fastest)",
    "beam": "Beam search",
    "beam+lm": "Beam search + character language model",
    "beam+lm+words": "Beam search + language model + word list",
}
DECODERS = tuple(DECODER_LABELS)
#: A decoder name ending so also reads every line again, wider, and merges the two readings word by word (Recognizer).
TWO_WIDTHS = "+widths"
#: What the app, the CLI and the server offer: the decoders, and the best of them reading every line at two widths.
CHOICE_LABELS = {**DECODER_LABELS,
                 f"beam+lm+words{TWO_WIDTHS}": "Most accurate: each line read at two widths (about 1.7x the time)"}
CHOICES = tuple(CHOICE_LABELS)
#: Names used by model 0.1 and older settings files.
LEGACY_NAMES = {"beam+lexicon": "beam+lm+words"}


def canonical_name(name: str) -> str:
    """A decoder name in today's spelling; raises ValueError for an unknown one."""
    name = LEGACY_NAMES.get(name, name)
    if name not in CHOICE_LABELS:
        raise ValueError(f"unknown decoder {name!r}; choose one of {', '.join(CHOICES)}")
    return name


@dataclass(frozen=True)
class DecoderConfig:
    """How CTC outputs become text; written to and read from the ``decoder`` object of ``model.json``."""

    name: str = "greedy"
    beam_width: int = 10  # hypotheses kept per frame
    token_beam: int = 6  # characters tried per frame (the most likely ones)
    beam_threshold: float = 12.0  # drop hypotheses this far (natural log) below the best one
    blank_skip: float = 0.999  # runs of frames this sure to be blank are searched as one frame (1 = search all)
    log_add: bool = True  # merge hypotheses that reach the same text by summing their paths (else keep the best)
    lm: str | None = None  # character n-gram (ARPA, may be gzipped) in the bundle folder
    lm_weight: float = 0.8  # times the LM's log10 probability per character
    caps_lm_weight: float | None = None  # the LM weight for lines the greedy reading has mostly in capitals
    space_score: float = 0.0  # added for every space (word insertion bonus)
    words: str | None = None  # gzipped ``word<TAB>frequency`` list in the bundle folder
    words_weight: float = 0.3  # times the natural-log frequency of each word of an n-best hypothesis
    words_unknown: float = -18.0  # log frequency given to a word not in the list
    words_skip_capitals: bool = True  # block-capital words (names, mostly) are not scored by the word list
    nbest: int = 8  # hypotheses kept for word confidences, alternatives and word-list rescoring
    nbest_margin: float = 10.0  # ... if their score is within this of the best one
    nbest_temperature: float = 1.0  # n-best scores are divided by this before the softmax (word confidences)
    confidence_weights: tuple[float, ...] | None = None  # bias + one weight per confidence feature (fitted)
    confidence_features: tuple[str, ...] | None = None  # their names (model.beam.FEATURES); None: the first ones
    low_confidence: float = 0.5  # the app flags words whose confidence is below this
    dense_below: float = 0.0  # a line read at fewer network frames a character than this is read again wider (0: off)
    dense_target: float = 3.0  # ... stretched to this many frames a character ...
    dense_max_stretch: float = 1.5  # ... but at most this much wider
    dense_guess: float = 0.0  # characters per stroke crossing the line's body, to guess a dense line before reading it
    dense_tolerance: float = 0.2  # a line read at a guessed stretch is read again only if that stretch is this far off
    second_width: float = 1.25  # a "+widths" decoder also reads every line this much wider than plain

    @property
    def uses_beam(self) -> bool:
        """Whether this decoder runs the beam search."""
        return self.name != "greedy"

    @property
    def uses_lm(self) -> bool:
        """Whether the character language model is used."""
        return "+lm" in self.name and self.lm is not None

    @property
    def uses_words(self) -> bool:
        """Whether n-best hypotheses are rescored with the word list."""
        return "+words" in self.name and self.words is not None

    @property
    def two_widths(self) -> bool:
        """Whether every line is also read at ``second_width`` (the two readings merged word by word)."""
        return self.name.endswith(TWO_WIDTHS)

    def stretch_for(self, frames: float, characters: float) -> float:
        """How much wider to read a line read as ``characters`` in ``frames`` (1: as it is)."""
        if self.dense_below <= 0 or characters < 2 or frames >= self.dense_below * characters:
            return 1.0
        return min(self.dense_max_stretch, self.dense_target * characters / frames)

    def guess_stretch(self, frames: int, strokes: float) -> float:
        """The stretch to read a line at first: ``frames`` its plain reading would have, ``strokes`` its ink's."""
        if self.dense_guess <= 0:
            return 1.0
        return self.stretch_for(frames, self.dense_guess * strokes)

    def again_stretch(self, first: float, frames: int, characters: int) -> float | None:
        """The stretch to read a line again at, after reading it at ``first`` as ``characters`` in ``frames``;
        None keeps that reading (a guessed stretch within ``dense_tolerance`` of what that reading asks for)."""
        stretch = self.stretch_for(frames / first, characters)
        if first == 1.0:
            return stretch if stretch > 1.0 else None
        return None if abs(stretch - first) <= self.dense_tolerance + 1e-9 else stretch

    def with_name(self, name: str | None) -> DecoderConfig:
        """The same settings under another decoder name (None keeps this one)."""
        return self if name is None else replace(self, name=canonical_name(name))

    def to_json(self) -> dict[str, Any]:
        """The ``decoder`` object of ``model.json``."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, legacy: dict[str, Any] | None = None) -> DecoderConfig:
        """Parse the ``decoder`` entry: an object, or a bare name (model 0.1) with its old sibling keys."""
        if isinstance(data, dict):
            known = {f.name for f in fields(cls)}
            values = {k: v for k, v in data.items() if k in known}
            values["name"] = canonical_name(str(values.get("name", "greedy")))
            if values.get("confidence_weights") is not None:
                values["confidence_weights"] = tuple(float(w) for w in values["confidence_weights"])
            if values.get("confidence_features") is not None:
                values["confidence_features"] = tuple(str(n) for n in values["confidence_features"])
            return cls(**values)
        legacy = legacy or {}
        lexicon = legacy.get("lexicon_params", {})
        return cls(name=canonical_name(str(data or "greedy")), words=legacy.get("lexicon"),
                   beam_width=int(legacy.get("beam_width", cls.beam_width)),
                   words_weight=float(lexicon.get("weight", cls.words_weight)),
                   words_unknown=float(lexicon.get("unknown", cls.words_unknown)))
