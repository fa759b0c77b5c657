"""Lines too wide for the network are cut at word gaps, read in pieces and joined."""

from __future__ import annotations

import numpy as np
import pytest

from model.input_spec import InputSpec
from model.long_lines import cut_columns, network_width, piece_columns
from model.preprocess import PreparedLine
from model.recognizer import Prediction, Recognizer, Word, joined
from tests.conftest import render_text
from training.metrics import score

SPEC = InputSpec()
LONG = ("the quick brown fox jumps over the lazy dog and then it runs away into the forest where nobody can find it "
        "again while the sun goes down behind the hills seven wizards quietly judged the boxing match held in a small "
        "village near the old mill while many people were watching from the windows of their houses")


def _words(widths: list[int], letter_gap: int = 2, word_gap: int = 14, height: int = 40) -> np.ndarray:
    """An ink map of words made of 10-px letters: ``widths`` letters a word."""
    columns = []
    for letters in widths:
        for k in range(letters):
            columns += [True] * 10 + [False] * (letter_gap if k < letters - 1 else word_gap)
    ink = np.zeros((height, len(columns) - word_gap), bool)
    ink[:, np.flatnonzero(columns[: ink.shape[1]])] = True
    return ink


def test_cuts_fall_in_word_gaps_and_the_pieces_fit():
    rng = np.random.default_rng(3)
    ink = _words(list(rng.integers(2, 9, 80)))
    assert network_width(ink.shape[1], ink.shape[0], SPEC) > 2 * SPEC.max_width  # would be squeezed
    cuts = cut_columns(ink, SPEC)
    assert len(cuts) == int(network_width(ink.shape[1], ink.shape[0], SPEC) // SPEC.max_width)  # fewest pieces
    edges = [0, *cuts, ink.shape[1]]
    for a, b in zip(edges, edges[1:]):
        assert network_width(b - a, ink.shape[0], SPEC) <= SPEC.max_width
    for c in cuts:
        lo, hi = int(c), int(np.ceil(c))
        assert not ink[:, lo - 6: hi + 6].any()  # the middle of a 14-px word gap, not a 2-px letter gap


def test_pieces_are_of_even_widths():
    ink = _words([5] * 60)
    cuts = cut_columns(ink, SPEC)
    edges = [0, *cuts, ink.shape[1]]
    spans = np.diff(edges)
    assert spans.max() - spans.min() < 0.15 * spans.mean()


def test_lines_that_fit_or_have_no_gap_are_left_whole():
    assert cut_columns(_words([5] * 20), SPEC) == []  # fits in 1,600 columns
    assert cut_columns(np.ones((40, 5000), bool), SPEC) == []  # never cut through ink: squeezed as before
    assert cut_columns(np.zeros((40, 5000), bool), SPEC) == []


def test_piece_columns_are_in_the_crops_pixels():
    ink = _words([5] * 60)
    cuts = cut_columns(ink, SPEC)
    part = PreparedLine(np.zeros((32, 16), np.float32), (30, 5, 30 + ink.shape[1], 45), (2.0, 2.0), ink)
    width = 2 * (ink.shape[1] + 60)
    columns = piece_columns(part, SPEC, width)
    assert columns is not None
    assert columns[0][0] == 0 and columns[-1][1] == width
    assert [b for _, b in columns[:-1]] == [round((30 + c) * 2) for c in cuts]
    assert all(b == a2 for (_, b), (a2, _) in zip(columns, columns[1:]))


def test_joined_pieces():
    a = Prediction("ab", 0.5, (Word("ab", 0.5, box=(0, 0, 5, 5)),))
    b = Prediction("cdef", 0.8, (Word("cdef", 0.8, box=(50, 0, 9, 5)),))
    both = joined([a, Prediction("", 0.0), b])
    assert both.text == "ab cdef"
    assert [w.box for w in both.words] == [(0, 0, 5, 5), (50, 0, 9, 5)]
    assert both.confidence == pytest.approx((0.5 ** 2 * 0.8 ** 4) ** (1 / 6))
    assert joined([Prediction("", 0.0), Prediction("", 0.0)]) == Prediction("", 0.0)


@pytest.fixture(scope="module")
def reader() -> Recognizer:
    return Recognizer.load(decoder="greedy")


def test_a_long_line_reads_better_in_pieces(reader):
    image = render_text(LONG)
    assert image.shape[1] > 70 * image.shape[0]
    reader.split_long_lines = False
    squeezed = reader.recognize([image])[0]
    reader.split_long_lines = True
    pieces = reader.recognize([image])[0]
    squeezed_cer, pieces_cer = score([LONG], [squeezed.text]).cer, score([LONG], [pieces.text]).cer
    assert pieces_cer < 0.08 and squeezed_cer > 2 * pieces_cer, (squeezed_cer, pieces_cer)
    assert len(pieces.words) == len(pieces.text.split())
    lefts = [w.box[0] for w in pieces.words]
    assert lefts == sorted(lefts) and lefts[-1] > 0.9 * image.shape[1]  # boxes on the whole line, in order
    h, w = image.shape
    assert all(0 <= x and x + bw <= w and 0 <= y and y + bh <= h for x, y, bw, bh in (v.box for v in pieces.words))


def test_an_ordinary_line_is_read_whole(reader):
    image = render_text("hello world")
    reader.split_long_lines = True
    assert reader.recognize([image]) == Recognizer.load(decoder="greedy").recognize([image])
