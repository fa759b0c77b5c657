"""The bundled character LM as a KenLM binary (scripts/kenlm_binary.sh): the same scores as its ARPA source."""

import pytest

from model.beam import quiet_stderr
from model.bundle import bundled_model_dir, read_info

SOURCE = "charlm.arpa.gz"


def _score(lm, dictionary, text: str) -> float:
    state, total = lm.start(False), 0.0
    for ch in text:
        state, score = lm.score(state, dictionary.get_index("|" if ch == " " else ch))
        total += score
    return total + lm.finish(state)[1]


def test_the_binary_lm_scores_like_its_arpa_source():
    from flashlight.lib.text.decoder.kenlm import KenLM
    from flashlight.lib.text.dictionary import Dictionary

    folder = bundled_model_dir()
    info = read_info(folder)
    if not info.decoder.lm or not info.decoder.lm.endswith(".bin") or not (folder / SOURCE).is_file():
        pytest.skip("the bundled model has no binary LM next to its ARPA source")
    tokens = ["<blank>"] + ["|" if c == " " else c for c in info.charset.chars]
    with quiet_stderr():
        binary = KenLM(str(folder / info.decoder.lm), Dictionary(tokens))
        arpa = KenLM(str(folder / SOURCE), Dictionary(tokens))
    dictionary = Dictionary(tokens)
    for text in ("the quick brown fox", "JOHN SMITH", "Mrs. O'Neill, 42 Elm St.", "qzx"):
        assert _score(binary, dictionary, text) == pytest.approx(_score(arpa, dictionary, text), abs=1e-4)
