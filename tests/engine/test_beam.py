"""The native beam search (flashlight-text), the KenLM character model built by training/charlm.py, the word list."""

import gzip
import math
from collections import defaultdict

import numpy as np
import pytest

from model.beam import BeamDecoder
from model.charset import Charset
from model.decode import greedy_decode
from model.decoder_config import DecoderConfig
from model.lexicon import Lexicon
from tests.engine.test_decode import frames
from training.charlm import count_ngrams, kneser_ney, tokens, write_arpa

CS = Charset()
TEXT = ["the cat sat on the mat", "the hat is on the cat", "then the rat ate the oat", "THE CAT"] * 20


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A folder with a small character LM (built from TEXT) and a word list."""
    folder = tmp_path_factory.mktemp("lm")
    vocab = sorted({t for line in TEXT for t in tokens(line)} - {"<s>"})
    logprobs, backoffs = kneser_ney(count_ngrams(iter(TEXT), 4), vocab, (1, 1, 1, 1))
    write_arpa(folder / "lm.arpa", logprobs, backoffs)
    with gzip.open(folder / "words.tsv.gz", "wt") as fh:
        fh.write("the\t5e-2\ncat\t1e-4\nhat\t1e-4\n")
    return folder


def test_the_lm_is_normalised(bundle):
    """For each context in the file, probabilities over the vocabulary (with back-off) sum to one."""
    vocab = sorted({t for line in TEXT for t in tokens(line)} - {"<s>"})
    logprobs, backoffs = kneser_ney(count_ngrams(iter(TEXT), 3), vocab, (1, 1, 1))
    probs = [{g: 10 ** v for g, v in layer.items()} for layer in logprobs]
    bows = [{g: 10 ** v for g, v in layer.items()} for layer in backoffs]

    def p(gram):
        if gram in probs[len(gram) - 1]:
            return probs[len(gram) - 1][gram]
        return bows[len(gram) - 2].get(gram[:-1], 1.0) * p(gram[1:]) if len(gram) > 1 else probs[0][("<unk>",)]

    contexts = defaultdict(int)
    for gram in probs[2]:
        contexts[gram[:-1]] += 1
    for h in list(contexts)[:20]:
        total = sum(p((*h, w)) for w in vocab) + p((*h, "<unk>"))
        assert math.isclose(total, 1.0, rel_tol=1e-3), (h, total)


def test_arpa_file_loads_in_kenlm(bundle):
    text = (bundle / "lm.arpa").read_text()
    assert text.startswith("\\data\\") and text.rstrip().endswith("\\end\\")
    decoder = BeamDecoder(CS, DecoderConfig(name="beam+lm", lm="lm.arpa"), bundle)
    assert decoder.decode(np.log(frames(["c", "", "a", "t"]))).text == "cat"


def test_beam_matches_greedy_on_confident_input(bundle):
    probs = frames(["c", "", "a", "t", "", " ", "s", "a", "t"])
    beam = BeamDecoder(CS, DecoderConfig(name="beam"), bundle)
    assert beam.decode(np.log(probs)).text == greedy_decode(probs, CS).text == "cat sat"


def test_beam_sums_paths_where_greedy_cannot(bundle):
    # Two frames: greedy picks blank twice (""), but "a" has more total probability over all paths.
    probs = np.full((2, CS.num_classes), 1e-6)
    probs[:, 0] = 0.4
    probs[:, CS.encode("a")[0]] = 0.35
    probs[:, CS.encode("b")[0]] = 0.25
    assert greedy_decode(probs, CS).text == ""
    assert BeamDecoder(CS, DecoderConfig(name="beam"), bundle).decode(np.log(probs)).text == "a"


def ambiguous_the() -> np.ndarray:
    """'tbe' by the pixels, 'the' by English: the 'b'/'h' frame is nearly a tie."""
    probs = frames(["t", "", "b", "", "e"])
    probs[2, CS.encode("b")[0]], probs[2, CS.encode("h")[0]] = 0.5, 0.45
    return probs


def test_language_model_prefers_english(bundle):
    probs = np.log(ambiguous_the())
    assert BeamDecoder(CS, DecoderConfig(name="beam"), bundle).decode(probs).text == "tbe"
    lm = BeamDecoder(CS, DecoderConfig(name="beam+lm", lm="lm.arpa", lm_weight=1.0), bundle).decode(probs)
    assert lm.text == "the"
    [word] = lm.words
    assert "tbe" in word.alternatives  # the n-best offers the other reading
    assert 0.0 < word.confidence < 1.0


def test_word_list_rescores_the_n_best(bundle):
    probs = np.log(ambiguous_the())
    config = DecoderConfig(name="beam+lm+words", lm="lm.arpa", lm_weight=0.0, words="words.tsv.gz", words_weight=0.5)
    assert BeamDecoder(CS, config, bundle).decode(probs).text == "the"


def test_confidence_is_high_where_the_n_best_agrees(bundle):
    probs = np.log(frames(["c", "", "a", "t", " ", "t", "b", "e"], sharp=0.97))
    probs[6] = np.log(ambiguous_the()[2])
    d = BeamDecoder(CS, DecoderConfig(name="beam"), bundle).decode(probs)
    sure, unsure = d.words
    assert sure.text == "cat" and sure.confidence > 0.9
    assert unsure.confidence < sure.confidence


def test_block_capitals_are_not_turned_into_listed_words(bundle):
    probs = frames(["T", "", "B", "", "E"])
    probs[2, CS.encode("B")[0]], probs[2, CS.encode("H")[0]] = 0.5, 0.45
    config = DecoderConfig(name="beam+lm+words", lm="lm.arpa", lm_weight=0.0, words="words.tsv.gz", words_weight=5)
    assert BeamDecoder(CS, config, bundle).decode(np.log(probs)).text == "TBE"
    from dataclasses import replace

    scored = BeamDecoder(CS, replace(config, words_skip_capitals=False), bundle).decode(np.log(probs))
    assert scored.text == "THE"  # without the rule the list would "correct" it


def test_missing_lm_file_is_reported(bundle):
    with pytest.raises(FileNotFoundError):
        BeamDecoder(CS, DecoderConfig(name="beam+lm", lm="nope.arpa"), bundle)


def test_lexicon_near_keeps_case_and_punctuation():
    lex = Lexicon({"house": math.log(1e-4), "horse": math.log(1e-5), "mouse": math.log(1e-6)})
    assert lex.near("hause") == ["house", "horse", "mouse"]  # one edit first, then two, by frequency
    assert lex.near("hause", limit=1) == ["house"]
    assert lex.near("Hovse,")[0] == "House,"
    assert lex.near("HOUSE") == ["HORSE", "MOUSE"]
    assert lex.near("a") == [] and lex.near("123") == []


def test_fitted_confidence_weights_are_used(bundle):
    from model.beam import FEATURES, word_confidence

    features = np.array([np.log(0.9), np.log(0.8), np.log(0.5), 0.25, 1.0, 0.0, 1.0, -0.5]
                        + [3.0] * (len(FEATURES) - 8))  # the later features: unused by nine weights
    assert math.isclose(word_confidence(features), 0.9 * math.sqrt(0.8), rel_tol=1e-9)
    weights = (0.0, 2.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    z = 2.0 * np.log(0.9) + 1.0
    assert math.isclose(word_confidence(features, weights), 1 / (1 + math.exp(-z)), rel_tol=1e-9)
    probs = np.log(ambiguous_the())
    weights = (-5.0,) + (0.0,) * len(FEATURES)
    config = DecoderConfig(name="beam+lm", lm="lm.arpa", words="words.tsv.gz", confidence_weights=weights)
    [word] = BeamDecoder(CS, config, bundle).decode(probs).words
    assert math.isclose(word.confidence, 1 / (1 + math.exp(5.0)), rel_tol=1e-6)


def test_evidence_knows_greedy_word_list_and_lm(bundle):
    config = DecoderConfig(name="beam+lm", lm="lm.arpa", words="words.tsv.gz", lm_weight=1.0)
    beam = BeamDecoder(CS, config, bundle)
    search = beam.search(np.log(ambiguous_the()))
    [ev] = beam.evidence(search)
    from model.beam import FEATURES

    features = dict(zip(FEATURES, ev.features))
    assert features["greedy reads it too"] == 0.0  # greedy reads "tbe", the LM "the"
    assert features["in the word list"] == 1.0
    assert -1.0 < features["LM log10 probability per character"] < 0.0
    assert beam._lm_per_char("the") > beam._lm_per_char("tbe")


def test_recognizer_words_carry_alternatives_and_the_threshold():
    from model.recognizer import Recognizer
    from tests.conftest import render_text

    rec = Recognizer.load(decoder="beam+lm+words")
    assert 0.0 < rec.low_confidence < 1.0
    [pred] = rec.recognize([render_text("the quick brown fox")])
    assert pred.words and all(0.0 <= w.confidence <= 1.0 for w in pred.words)
    assert all(w.text not in w.alternatives for w in pred.words)
    assert any(w.alternatives for w in pred.words)  # a rendered script font is never read without doubt


def test_lines_in_capitals_get_their_own_lm_weight(bundle):
    probs = frames(["T", "", "B", "", "E"])
    probs[2, CS.encode("B")[0]], probs[2, CS.encode("H")[0]] = 0.5, 0.45
    config = DecoderConfig(name="beam+lm", lm="lm.arpa", lm_weight=1.0)
    assert BeamDecoder(CS, config, bundle).decode(np.log(probs)).text == "THE"
    from dataclasses import replace

    assert BeamDecoder(CS, replace(config, caps_lm_weight=0.0), bundle).decode(np.log(probs)).text == "TBE"
    lower = np.log(ambiguous_the())  # not in capitals: the usual weight still applies
    assert BeamDecoder(CS, replace(config, caps_lm_weight=0.0), bundle).decode(lower).text == "the"


def test_case_doubt_compares_the_other_case_at_the_letters_best_frame():
    from model.beam import NO_DOUBT, case_doubt, swapped_case_ids

    swap = swapped_case_ids(CS)
    a, big_a, dot = (CS.encode(c)[0] for c in "aA.")
    assert swap[a] == big_a and swap[big_a] == a and swap[dot] == -1 and swap[0] == -1
    probs = frames(["a", "a", "", "."])
    probs[0, a], probs[0, big_a] = 0.5, 0.4  # the first frame of the 'a' run is the less sure one ...
    probs[1, a], probs[1, big_a] = 0.7, 0.1  # ... its best frame is this one: doubt = log(0.1 / 0.7)
    doubt = case_doubt(np.array([a, a, 0, dot]), probs, swap)
    assert len(doubt) == 2
    assert math.isclose(doubt[0], math.log(0.1 / 0.7), rel_tol=1e-9)
    assert doubt[1] == NO_DOUBT  # '.' has no other case


def test_evidence_sees_frame_doubt_case_doubt_and_capital_lines(bundle):
    from model.beam import FEATURES

    beam = BeamDecoder(CS, DecoderConfig(name="beam+lm", lm="lm.arpa", words="words.tsv.gz", lm_weight=1.0), bundle)
    sharp = frames(["t", "", "h", "", "e", " ", "c", "", "a", "", "t"], sharp=0.97)
    unsure = sharp.copy()
    unsure[8, CS.encode("a")[0]], unsure[8, CS.encode("A")[0]] = 0.5, 0.45  # 'a' or 'A'?
    first, second = (dict(zip(FEATURES, ev.features)) for ev in beam.evidence(beam.search(np.log(unsure))))
    assert second["case doubt"] > math.log(0.8) > first["case doubt"]
    assert second["highest frame entropy"] > first["highest frame entropy"] + 0.3
    assert first["frames per character"] == 5 / 3
    assert first["capitals line x in the word list"] == 0.0  # not a line in capitals
    caps = frames(["T", "", "H", "", "E", " ", "C", "", "A", "", "T"], sharp=0.97)
    first, second = (dict(zip(FEATURES, ev.features)) for ev in beam.evidence(beam.search(np.log(caps))))
    assert first["capitals line x 1 / characters"] == 1 / 3
    assert first["capitals line x neighbours' lowest character confidence"] == second["log lowest character confidence"]


def test_evidence_sees_doubt_about_a_word_boundary(bundle):
    from model.beam import FEATURES

    beam = BeamDecoder(CS, DecoderConfig(name="beam"), bundle)
    path = ["c", "", "a", "", "t", "", "", "s", "", "a", "", "t"]
    clear, vague = frames(path, sharp=0.97), frames(path, sharp=0.97)
    vague[5, 0], vague[5, CS.encode(" ")[0]] = 0.5, 0.45  # blank or a space between 'cat' and 'sat'?
    [one] = beam.evidence(beam.search(np.log(clear)))
    [other] = beam.evidence(beam.search(np.log(vague)))
    key = FEATURES.index("highest entropy between words")
    assert beam.decode(np.log(vague)).text == "catsat"
    assert one.features[key] == 0.0 and other.features[key] == 0.0  # one word: no gap beside it ...
    spaced = frames(["c", "", "a", "", "t", " ", " ", "s", "", "a", "", "t"], sharp=0.97)
    spaced[5, 0], spaced[5, CS.encode(" ")[0]] = 0.45, 0.5  # ... two words with a doubtful gap
    first, _ = beam.evidence(beam.search(np.log(spaced)))
    assert first.features[key] > 0.5


def test_confidence_weights_by_feature_name():
    from model.beam import FEATURES, word_confidence

    features = np.arange(len(FEATURES), dtype=float) / 10
    named = word_confidence(features, (0.5, 2.0), ("case doubt",))
    assert math.isclose(named, 1 / (1 + math.exp(-(0.5 + 2.0 * features[FEATURES.index("case doubt")]))))
    old = (0.0,) * 8 + (1.0,)  # a bundle without names: the first eight features, in order
    assert math.isclose(word_confidence(features, old), 1 / (1 + math.exp(-features[7])))
    unfitted = word_confidence(features)
    assert word_confidence(features, (0.5, 2.0), ("no such feature",)) == unfitted


def test_confidence_feature_names_round_trip_through_model_json():
    config = DecoderConfig(confidence_weights=(1.0, 2.0), confidence_features=("case doubt",))
    assert DecoderConfig.from_json(config.to_json()) == config
    import json

    assert DecoderConfig.from_json(json.loads(json.dumps(config.to_json()))) == config
