"""Rendered evaluation sets name each image's font, and ``evaluate`` breaks its CER down by font."""

import json

import pytest

from training.evaluate import by_font
from training.evaluate import main as evaluate_main
from training.fonts import fetch_fonts
from training.render_eval import read_fonts, render_set


@pytest.fixture(scope="module")
def two_fonts():
    paths = fetch_fonts(("caveat", "kalam"))
    if len(paths) < 2:
        pytest.skip("npm could not fetch @fontsource fonts")
    return paths


def test_rendered_set_names_each_images_font(two_fonts, tmp_path):
    assert render_set(two_fonts, "lines", 6, tmp_path, seed=3) == 6
    fonts = read_fonts(tmp_path)
    assert sorted(fonts) == [f"lines-{i:04d}.png" for i in range(6)]
    assert [fonts[f"lines-{i:04d}.png"] for i in range(4)] == [p.name for p in two_fonts] * 2
    assert read_fonts(tmp_path / "missing") == {}


def test_by_font_sums_errors_per_font():
    names = ["a.png", "b.png", "c.png", "d.png"]
    truths = ["abcd", "efgh", "ij", "xyz"]
    preds = ["abcd", "efgx", "i", "xyz"]
    got = by_font(names, truths, preds, {"a.png": "one", "b.png": "one", "c.png": "two"})
    assert got == {"one": round(1 / 8, 4), "two": 0.5}  # d.png has no font: left out


def test_evaluate_prints_the_cer_by_font(two_fonts, tmp_path, capsys):
    render_set(two_fonts, "lines", 4, tmp_path, seed=5)
    assert evaluate_main(["--folder", str(tmp_path), "--ignore-case"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    per_font = result["cer_by_font"]
    assert sorted(per_font) == sorted(p.name for p in two_fonts)
    assert min(per_font.values()) <= result["cer"] <= max(per_font.values())
    flags = result["word_flags"]  # the app's own words and confidences, at the bundle's threshold
    assert flags["words"] >= 4 and 0 <= flags["flagged_and_wrong"] <= min(flags["flagged"], flags["wrong"])
    assert 0.0 < flags["threshold"] < 1.0
