"""Codec between text and CTC label ids (blank = 0)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Default character set: every character of the common English handwriting datasets.
DEFAULT_CHARSET = (
    " !\"#&'()*+,-./0123456789:;?"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "abcdefghijklmnopqrstuvwxyz"
)

_FOLD = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
    "`": "'", "\u00b4": "'", "\u2026": "...", "\t": " ",
}


def normalize_text(text: str) -> str:
    """Fold typographic quotes/dashes, strip accents and collapse whitespace."""
    text = "".join(_FOLD.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Charset:
    """Maps characters to label ids 1..N; id 0 is the CTC blank."""

    chars: str = DEFAULT_CHARSET

    def __post_init__(self) -> None:
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("charset has duplicate characters")

    @property
    def num_classes(self) -> int:
        """Number of network outputs, including the blank."""
        return len(self.chars) + 1

    def encode(self, text: str) -> list[int]:
        """Text -> label ids; characters outside the charset raise ValueError."""
        index = self._index
        try:
            return [index[ch] for ch in text]
        except KeyError as exc:
            raise ValueError(f"character {exc.args[0]!r} is not in the charset") from None

    def decode(self, ids: list[int] | tuple[int, ...]) -> str:
        """Label ids -> text; blanks (0) are dropped."""
        return "".join(self.chars[i - 1] for i in ids if 0 < i <= len(self.chars))

    def filter(self, text: str) -> str:
        """Normalise text and drop characters the charset cannot encode."""
        text = normalize_text(text)
        return re.sub(r" +", " ", "".join(ch for ch in text if ch in self._index)).strip()

    @property
    def _index(self) -> dict[str, int]:
        cached = self.__dict__.get("_index_cache")
        if cached is None:
            cached = {ch: i + 1 for i, ch in enumerate(self.chars)}
            object.__setattr__(self, "_index_cache", cached)
        return cached
