import pytest

from model.charset import DEFAULT_CHARSET, Charset, normalize_text


def test_round_trip_every_character():
    cs = Charset()
    ids = cs.encode(DEFAULT_CHARSET)
    assert ids == list(range(1, len(DEFAULT_CHARSET) + 1))
    assert cs.decode(ids) == DEFAULT_CHARSET


def test_blank_is_zero_and_dropped():
    cs = Charset()
    assert cs.num_classes == len(DEFAULT_CHARSET) + 1
    assert cs.decode([0, cs.encode("a")[0], 0]) == "a"


def test_required_characters_present():
    for ch in "azAZ09 !\"#&'()*+,-./:;?":
        assert ch in DEFAULT_CHARSET


def test_unknown_character_raises():
    with pytest.raises(ValueError, match="not in the charset"):
        Charset().encode("a€")


def test_filter_folds_typography_and_drops_unknown():
    assert Charset().filter("“Café” — it’s  ok€") == "\"Cafe\" - it's ok"


def test_normalize_collapses_whitespace():
    assert normalize_text("  a \t b\n c ") == "a b c"


def test_duplicate_characters_rejected():
    with pytest.raises(ValueError):
        Charset("aab")
