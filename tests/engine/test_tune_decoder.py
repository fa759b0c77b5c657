"""The tuning pipeline end to end on made-up network outputs (the real validation data is not in the repository)."""

from pathlib import Path

import numpy as np
import pytest

from model.bundle import read_info
from model.decoder_config import DECODERS
from tests.engine.test_decode import frames
from training.tune_decoder import confidence_report, run, tune, write_doc
from training.validation import ValidationSet

pytestmark = pytest.mark.slow  # the whole grid: about half a minute

BUNDLE = Path(__file__).resolve().parents[2] / "resources" / "model"


def outputs(text: str, noisy: int) -> np.ndarray:
    """Logits whose best path spells ``text``; every ``noisy``-th character is a near tie with 'x'."""
    path = []
    for ch in text:
        path += [ch, ""]
    probs = frames(path, sharp=0.95)
    cs = read_info(BUNDLE).charset
    for i in range(0, len(path), 2 * noisy):
        probs[i, cs.encode("x")[0]] = 0.45
        probs[i, cs.encode(path[i])[0]] = 0.5
    return np.log(probs)


def sets() -> list[ValidationSet]:
    lines = ["the cat sat on the mat", "a man and his dog", "where are you going now"]
    iam = ValidationSet("iam", lines * 4, [outputs(t, 3 + i % 4) for i, t in enumerate(lines * 4)], True)
    names = ValidationSet("names", ["JEAN DUPONT", "MARIE"], [outputs("JEAN DUPONT", 4), outputs("MARIE", 9)], False)
    return [iam, names]


def test_tune_compares_every_decoder_and_writes_the_report(tmp_path):
    vsets = sets()
    base = read_info(BUNDLE).decoder
    runs = tune(BUNDLE, vsets, base)
    assert set(runs) == set(DECODERS)
    assert all(0.0 <= r.cer["iam"] < 0.5 for r in runs.values())
    assert runs["beam+lm"].config.uses_lm and not runs["beam"].config.uses_lm
    winner = min(runs, key=lambda k: runs[k].objective(runs["greedy"]))
    temperature, weights, threshold, facts = confidence_report(BUNDLE, vsets, runs[winner], tmp_path)
    assert 0.0 <= threshold <= 1.0 and facts["words"] == sum(len(t.split()) for s in vsets for t in s.truths)
    assert (tmp_path / "confidence-reliability.png").stat().st_size > 1000
    write_doc(tmp_path / "decoding.md", runs, winner, facts, None, "test", {s.name: len(s.truths) for s in vsets})
    text = (tmp_path / "decoding.md").read_text()
    assert f"**{winner} (default)**" in text and "ROC AUC" in text


def test_run_scores_names_case_insensitively():
    vsets = sets()
    lower = ValidationSet("names", ["jean dupont"], [vsets[1].outputs[0]], False)
    r = run(read_info(BUNDLE).decoder.with_name("greedy"), BUNDLE, [lower], timed=False)
    assert r.cer["names"] < 0.2


def test_docs_empty_means_no_docs():
    from pathlib import Path

    from training.tune_decoder import docs_folder

    assert docs_folder("") is None  # not Path(""), which is the current folder: the files landed in the checkout
    assert docs_folder("out/docs") == Path("out/docs")
