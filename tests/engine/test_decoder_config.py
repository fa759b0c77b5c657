import json

import pytest

from model.bundle import ModelError, ModelInfo, read_info
from model.decoder_config import CHOICES, DECODERS, TWO_WIDTHS, DecoderConfig, canonical_name


def test_round_trip_and_flags():
    config = DecoderConfig(name="beam+lm+words", lm="lm.arpa.gz", words="w.tsv.gz", lm_weight=1.1)
    again = DecoderConfig.from_json(json.loads(json.dumps(config.to_json())))
    assert again == config
    assert again.uses_beam and again.uses_lm and again.uses_words
    plain = again.with_name("beam")
    assert plain.uses_beam and not plain.uses_lm and not plain.uses_words and plain.lm_weight == 1.1
    assert not again.with_name("greedy").uses_beam


def test_the_two_widths_choice_is_the_best_decoder_reading_twice():
    config = DecoderConfig(name="beam+lm+words", lm="lm.arpa.gz", words="w.tsv.gz")
    assert not config.two_widths
    twice = config.with_name("beam+lm+words" + TWO_WIDTHS)
    assert twice.two_widths and twice.uses_beam and twice.uses_lm and twice.uses_words
    assert twice.second_width == 1.25
    assert twice.name in CHOICES and twice.name not in DECODERS  # (the decoder tuning runs logits: DECODERS only)
    assert set(DECODERS) < set(CHOICES)
    assert DecoderConfig.from_json(twice.to_json()) == twice


def test_an_lm_decoder_without_an_lm_file_does_not_claim_to_use_one():
    assert not DecoderConfig(name="beam+lm").uses_lm


def test_model_01_json_still_reads():
    legacy = {"decoder": "beam+lexicon", "lexicon": "lexicon.tsv.gz", "beam_width": 8,
              "lexicon_params": {"weight": 0.3, "unknown": -18.0}, "beam_prune": 0.02}
    config = DecoderConfig.from_json(legacy["decoder"], legacy=legacy)
    assert config.name == "beam+lm+words" and config.words == "lexicon.tsv.gz" and config.beam_width == 8
    assert config.words_weight == 0.3 and config.lm is None


def test_unknown_names_are_refused():
    assert canonical_name("beam+lexicon") in DECODERS
    with pytest.raises(ValueError):
        canonical_name("magic")


def test_bundle_with_a_bad_decoder_gives_a_model_error(tmp_path):
    data = ModelInfo.from_json({"version": "1", "charset": "ab", "input": {"height": 32}, "tflite": {"1": "x"}})
    raw = data.to_json()
    raw["decoder"] = {"name": "magic"}
    (tmp_path / "model.json").write_text(json.dumps(raw))
    with pytest.raises(ModelError):
        read_info(tmp_path)


def test_the_bundled_model_names_its_decoder_files():
    from model.bundle import bundled_model_dir

    folder = bundled_model_dir()
    config = read_info(folder).decoder
    assert config.name in DECODERS
    for name in (config.lm, config.words):
        assert name and (folder / name).is_file()
