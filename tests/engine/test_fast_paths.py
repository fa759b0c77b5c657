"""The faster ways of computing preprocessing statistics, components and the word list give the plain results."""

from __future__ import annotations

import gzip
import math

import cv2
import numpy as np
import pytest

from model.lexicon import Lexicon
from model.preprocess import components, median_and_percentile


@pytest.mark.parametrize("seed", range(20))
def test_median_and_percentile_are_numpys_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        n = int(rng.integers(1, 3000))
        values = (rng.random(n) ** rng.uniform(0.2, 5)).astype(np.float32)
        if rng.random() < 0.3:  # many ties, as in an ink map's paper
            values = (np.round(values * rng.integers(2, 50)) / 7).astype(np.float32)
        if rng.random() < 0.3:  # a strided 2-D sample, as _stretch takes
            values = values[: n - n % 4].reshape(4, -1)[:, ::2] if n >= 8 else values
        q = float(rng.choice([99.5, 50.0, 90.0, 0.5, 100.0, 0.0, 99.9]))
        assert median_and_percentile(values, q) == (float(np.median(values)), float(np.percentile(values, q)))


def test_median_and_percentile_other_types_fall_back_to_numpy():
    values = np.arange(11, dtype=np.float64) / 3
    assert median_and_percentile(values, 99.5) == (float(np.median(values)), float(np.percentile(values, 99.5)))


@pytest.mark.parametrize("seed", range(10))
def test_components_are_opencvs(seed):
    rng = np.random.default_rng(seed)
    mask = (rng.random((int(rng.integers(1, 90)), int(rng.integers(1, 400)))) < rng.uniform(0.05, 0.7)).astype(np.uint8)
    n, labels, stats = components(mask)
    n0, labels0, stats0, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    assert n == n0
    # the same partition and statistics, whatever the label numbers
    pairs = np.unique(np.stack([labels.ravel(), labels0.ravel()]), axis=1)
    assert pairs.shape[1] == n and len(set(pairs[0])) == n and len(set(pairs[1])) == n
    order = dict(zip(pairs[0].tolist(), pairs[1].tolist()))
    assert np.array_equal(stats0[[order[i] for i in range(n)]], stats)


def _write(path, text: str) -> None:
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        fh.write(text)


def _plain_load(path) -> dict[str, float]:
    """The word list read line by line, as before the bulk reader."""
    freqs = {}
    with gzip.open(path, "rt", encoding="utf-8") as text:
        for line in text:
            word, _, freq = line.rstrip("\n").partition("\t")
            if word and freq:
                freqs[word] = math.log(float(freq))
    return freqs


@pytest.mark.parametrize("text", [
    "the\t5.370e-02\nto\t2.690e-02\ndon't\t1.0e-05\ncafé\t3e-07\n",  # well formed: read in bulk
    "the\t5.370e-02\nno tab here\nto\t2.690e-02\n",  # a line without a tab is skipped
    "the\t5.370e-02\n\tlonely\nempty\t\nto\t2.690e-02",  # empty fields, no final newline
    "the\t5.370e-02\r\nto\t2.690e-02\rand\t1e-3\n",  # CR and CRLF line ends, as a text-mode file reads them
])
def test_word_list_reads_as_line_by_line(tmp_path, text):
    path = tmp_path / "words.tsv.gz"
    _write(path, text)
    lexicon = Lexicon.load(path)
    expected = _plain_load(path)
    assert set(lexicon.log_freq) == set(expected)
    assert all(lexicon.log_freq[w] == v and lexicon.log_freq.get(w) == v for w, v in expected.items())
    assert lexicon.log_freq.get("absent") is None
    assert lexicon.score("The") == pytest.approx(0.4 * expected["the"])
    assert lexicon.contains("to") and not lexicon.contains("zebra")
