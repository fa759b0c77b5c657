import numpy as np

from model.charset import Charset
from model.decode import Decoded, char_runs, greedy_decode, harmonize_case, is_block_capitals, log_softmax, softmax

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


def test_greedy_words_carry_confidences_and_frame_spans():
    probs = frames(["m", "", "e", " ", "a", "t", "t"])
    probs[4, CS.encode("a")[0]] = 0.4
    d = greedy_decode(probs, CS)
    assert [w.text for w in d.words] == ["me", "at"]
    assert (d.words[0].start, d.words[0].end) == (0, 2) and (d.words[1].start, d.words[1].end) == (4, 6)
    assert d.words[1].confidence < d.words[0].confidence


def test_char_runs_give_best_frame_per_character():
    probs = frames(["a", "a", "", "a", "b"])
    probs[1, CS.encode("a")[0]] = 0.95
    path = probs.argmax(-1)
    ids, starts, ends, confs = char_runs(path, probs)
    assert CS.decode(ids.tolist()) == "aab"
    assert starts.tolist() == [0, 3, 4] and ends.tolist() == [1, 3, 4]
    assert abs(confs[0] - 0.95) < 1e-9


def test_confidence_is_geometric_mean():
    d = Decoded("ab", (0.5, 0.5))
    assert abs(d.confidence - 0.5) < 1e-9
    assert Decoded("", ()).confidence == 1.0


def test_softmax_rows_sum_to_one_and_log_softmax_matches():
    logits = np.random.default_rng(0).normal(size=(5, 7)) * 50
    p = softmax(logits)
    assert np.allclose(p.sum(-1), 1.0)
    assert np.allclose(np.exp(log_softmax(logits)), p)


def test_harmonize_case_for_block_capitals_only():
    assert harmonize_case("PRoclAIMING") == "PROCLAIMING"
    assert harmonize_case("JEAN-PIErRE") == "JEAN-PIERRE"
    assert harmonize_case("McDonald went to NASA") == "McDonald went to NASA"
    assert harmonize_case("A") == "A" and harmonize_case("") == ""


def test_greedy_applies_the_case_rule_to_words_too():
    d = greedy_decode(frames(["J", "", "E", "", "a", "", "N"]), CS)
    assert d.text == "JEAN" and d.words[0].text == "JEAN"


def test_block_capitals():
    assert is_block_capitals("DANIEL") and is_block_capitals("O'NEIL")
    assert not is_block_capitals("Daniel") and not is_block_capitals("A") and not is_block_capitals("42")
