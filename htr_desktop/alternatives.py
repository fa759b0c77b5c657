"""Other readings of a word for the right-click menu: the decoder's n-best, then close words from the word list."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from htr_desktop.regions import RegionWord
from htr_desktop.settings import Settings

log = logging.getLogger(__name__)
LIMIT = 8


class Suggester:
    """``suggester(word)`` -> other readings; the model's word list is read on first use (GUI thread)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.info: Any = None  # the loaded model's ModelInfo (set when the model is ready)
        self._lexicon: Any = None
        self._source: object = None

    def _word_list(self) -> Any:
        config = getattr(self.info, "decoder", None)
        name = getattr(config, "words", None)
        if not name:
            return None
        from model.bundle import bundled_model_dir

        folder = Path(self.settings.model_path) if self.settings.model_path else bundled_model_dir()
        if self._source != (folder, name):
            from model.lexicon import Lexicon

            self._source, self._lexicon = (folder, name), None
            try:
                self._lexicon = Lexicon.load(folder / name)
            except (OSError, ValueError) as exc:
                log.warning("word list unavailable for alternatives: %s", exc)
        return self._lexicon

    def __call__(self, word: RegionWord) -> list[str]:
        """Readings other than ``word.text``, most likely first (at most LIMIT)."""
        from model.lexicon import alternatives

        return alternatives(word.text, word.alternatives, self._word_list(), LIMIT)
