import numpy as np

from model.charset import Charset
from model.decode import Decoded, beam_decode, greedy_decode, softmax

CS = Charset()


def frames(text_path: list[str], sharp: float = 0.9) -> np.ndarray:
    """A probability matrix whose best path is the given frame labels ('' = blank)."""
    probs = np.full((len(text_path), CS.num_classes), (1 - sharp) / (CS.num_classes - 1))
    for t, ch in enumerate(text_path):
        probs[t, CS.encode(ch)[0] if ch else 0] = sharp
    return probs


def test_greedy_merges_repeats_and_drops_blanks():
    d = greedy_decode(frames(["h", "h", "", "e", "l", "", "l", "o", ""]), CS)
    assert d.text == "hello"
    assert len(d.char_confidences) == 5 and all(abs(c - 0.9) < 1e-6 for c in d.char_confidences)


def test_beam_matches_greedy_on_confident_input():
    probs = frames(["c", "", "a", "t", "", " ", "s", "a", "t"])
    assert beam_decode(probs, CS).text == greedy_decode(probs, CS).text == "cat sat"


def test_beam_sums_paths_where_greedy_cannot():
    # Two frames: greedy picks blank twice (""), but "a" has more total probability over all paths.
    probs = np.zeros((2, CS.num_classes))
    a = CS.encode("a")[0]
    probs[:, 0] = 0.4
    probs[:, a] = 0.35
    probs[:, CS.encode("b")[0]] = 0.25
    assert greedy_decode(probs, CS).text == ""
    assert beam_decode(probs, CS).text == "a"


def test_lexicon_prefers_known_word():
    # "tbe" vs "the": the 'b'/'h' frame is ambiguous; a word score favouring English fixes it.
    probs = frames(["t", "", "b", "", "e"])
    h, b = CS.encode("h")[0], CS.encode("b")[0]
    probs[2, b], probs[2, h] = 0.5, 0.45
    assert beam_decode(probs, CS).text == "tbe"
    scores = {"the": -3.0, "tbe": -20.0}
    assert beam_decode(probs, CS, word_score=lambda w: scores.get(w, -20.0)).text == "the"


def test_confidence_is_geometric_mean():
    d = Decoded("ab", (0.5, 0.5))
    assert abs(d.confidence - 0.5) < 1e-9
    assert Decoded("", ()).confidence == 1.0


def test_softmax_rows_sum_to_one():
    p = softmax(np.random.default_rng(0).normal(size=(5, 7)) * 50)
    assert np.allclose(p.sum(-1), 1.0)


def test_harmonize_case_for_block_capitals_only():
    from model.decode import harmonize_case

    assert harmonize_case("PRoclAIMING") == "PROCLAIMING"
    assert harmonize_case("JEAN-PIErRE") == "JEAN-PIERRE"
    assert harmonize_case("McDonald went to NASA") == "McDonald went to NASA"
    assert harmonize_case("A") == "A" and harmonize_case("") == ""


def test_beam_confidences_follow_the_alignment():
    probs = frames(["m", "", "e", "", " ", "a", "t", "", " ", "m", "e"], sharp=0.9)
    probs[9, CS.encode("m")[0]] = 0.6  # the second "m" is less sure
    d = beam_decode(probs, CS)
    assert d.text == "me at me"
    assert len(d.char_confidences) == len(d.text.replace(" ", "")) + 2
    assert abs(d.char_confidences[0] - 0.9) < 1e-6 and abs(d.char_confidences[-2] - 0.6) < 1e-6
