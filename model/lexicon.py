"""English word frequencies for beam-search rescoring (a word list shipped inside the model bundle)."""

from __future__ import annotations

import gzip
import math
import re
from importlib.abc import Traversable
from pathlib import Path

_EDGE = re.compile(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$")


class Lexicon:
    """Log-frequency lookup; unknown words get a penalty, numbers and punctuation are neutral."""

    def __init__(self, log_freq: dict[str, float], weight: float = 0.4, unknown: float = -14.0) -> None:
        self.log_freq = log_freq
        self.weight = weight
        self.unknown = unknown

    @classmethod
    def load(cls, path: Traversable | Path, **kwargs: float) -> Lexicon:
        """Read a gzipped ``word<TAB>frequency`` list."""
        with path.open("rb") as fh, gzip.open(fh, "rt", encoding="utf-8") as text:
            freqs = {}
            for line in text:
                word, _, freq = line.rstrip("\n").partition("\t")
                if word and freq:
                    freqs[word] = math.log(float(freq))
        return cls(freqs, **kwargs)

    def score(self, word: str) -> float:
        """Weighted log-frequency of a word (case-insensitive, surrounding punctuation ignored)."""
        core = _EDGE.sub("", word)
        if not core or not any(c.isalpha() for c in core):
            return 0.0
        lf = self.log_freq.get(core.lower())
        if lf is None:
            lf = self.unknown
        return self.weight * lf
