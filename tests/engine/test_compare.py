from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from model.recognizer import Recognizer
from tests.conftest import render_text
from training.compare import LineErrors, cer, compare, line_errors, main, resampled_diffs, table
from training.datasets import Sample
from training.metrics import char_errors, ref_length, score


def _lines(truths: list[str], a: list[str], b: list[str]) -> LineErrors:
    return LineErrors(np.array([char_errors(t, p) for t, p in zip(truths, a)]),
                      np.array([char_errors(t, p) for t, p in zip(truths, b)]),
                      np.array([ref_length(t) for t in truths]))


TRUTHS = ["the cat sat", "on  the mat ", "a dog barked", "far away"]


def test_the_cer_is_the_corpus_cer_evaluate_reports():
    a = ["the cot sat", "on the mat", "a dog barkd", "for away"]
    b = ["the cat sat", "on the mat", "a dog barked", "far awy"]
    lines = _lines(TRUTHS, a, b)
    assert cer(lines.a, lines.length) == pytest.approx(score(TRUTHS, a).cer)
    assert cer(lines.b, lines.length) == pytest.approx(score(TRUTHS, b).cer)


def test_identical_readings_differ_by_nothing_in_every_resampling():
    lines = _lines(TRUTHS, TRUTHS, TRUTHS)
    diffs = resampled_diffs(_lines(TRUTHS, ["x"] * 4, ["x"] * 4), 200, np.random.default_rng(1))
    assert np.all(diffs == 0)
    (row,) = compare({"iam": lines}, rounds=200)
    assert (row.cer_a, row.cer_b, row.diff, row.low, row.high, row.b_better) == (0, 0, 0, 0, 0, 0)


def test_a_reading_better_on_every_line_is_better_in_every_resampling():
    worse = ["the cot sot", "on tha mot", "a dig borked", "for awoy"]
    better = ["the cot sat", "on the mot", "a dog borked", "far awoy"]
    lines = _lines(TRUTHS, worse, better)
    (row,) = compare({"names": lines}, rounds=500)
    assert row.diff < 0 and row.high < 0 and row.low <= row.diff <= row.high
    assert row.b_better == 1.0
    (back,) = compare({"names": _lines(TRUTHS, better, worse)}, rounds=500)
    assert back.diff == -row.diff and back.low > 0 and back.b_better == 0.0


def test_the_mean_row_is_the_mean_of_the_sets_and_the_seed_repeats_it():
    one = _lines(TRUTHS, ["the cot sat", "on the mat", "a dog", "far away"], TRUTHS)
    two = _lines(TRUTHS, TRUTHS, ["the cat", "on the mat", "a dog barked", "far away"])
    rows = compare({"iam": one, "fonts": two}, rounds=300, seed=7)
    assert [r.name for r in rows] == ["iam", "fonts", "mean"]
    mean = rows[-1]
    assert mean.cer_a == pytest.approx((rows[0].cer_a + rows[1].cer_a) / 2, abs=1e-5)
    assert mean.diff == pytest.approx((rows[0].diff + rows[1].diff) / 2, abs=1e-5)
    assert mean.low <= mean.diff <= mean.high
    assert compare({"iam": one, "fonts": two}, rounds=300, seed=7) == rows
    assert "| mean |" in table(rows) and "95 % interval" in table(rows)


def test_both_bundles_read_the_same_lines_and_the_names_fold_case(tmp_path):
    samples = []
    for i, text in enumerate(["Maple Street", "MARTIN"]):
        path = tmp_path / f"{i}.png"
        cv2.imwrite(str(path), render_text(text))
        samples.append(Sample(path, text))
    (tmp_path / "broken.png").write_bytes(b"not an image")
    samples.append(Sample(tmp_path / "broken.png", "skipped"))
    rec = Recognizer.load(decoder="greedy")
    lines = line_errors(rec, rec, samples, case_sensitive=False)
    assert len(lines.length) == 2  # the unreadable image is skipped, not counted
    assert np.array_equal(lines.a, lines.b)
    assert list(lines.length) == [len("Maple Street"), len("MARTIN")]
    upper = [p.text.upper() for p in rec.recognize([render_text("Maple Street"), render_text("MARTIN")])]
    assert list(lines.a) == [char_errors("MAPLE STREET", upper[0]), char_errors("MARTIN", upper[1])]


def test_the_command_asks_for_two_bundles_and_known_sets(capsys):
    with pytest.raises(SystemExit):
        main(["--model", "resources/model"])
    assert "give --model twice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--model", "a", "--model", "b", "--sets", "iam,lob"])
    assert "unknown set(s) lob" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--model", "resources/model", "--model", "no/such/bundle"])
    assert "model folder not found" in capsys.readouterr().err


def test_a_set_without_a_readable_image_is_an_error_not_a_crash(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not an image")
    rec = Recognizer.load(decoder="greedy")
    with pytest.raises(ValueError, match="no readable image"):
        line_errors(rec, rec, [Sample(tmp_path / "broken.png", "x")], case_sensitive=True)
    with pytest.raises(ValueError, match="no readable image"):
        line_errors(rec, rec, [], case_sensitive=True)


def test_bundles_with_different_character_sets_are_not_compared():
    from model.charset import Charset

    a = SimpleNamespace(info=SimpleNamespace(charset=Charset("abc")))
    b = SimpleNamespace(info=SimpleNamespace(charset=Charset("abcd")))
    with pytest.raises(ValueError, match="different character sets"):
        line_errors(a, b, [], case_sensitive=True)  # type: ignore[arg-type]


def test_the_ship_rule_asks_a_lower_mean_no_set_much_worse_and_90_percent_of_the_resamplings():
    from training.compare import Difference, ship_verdict, verdict_line

    def row(name, diff, better):
        return Difference(name, 0.06, 0.06 + diff, diff, diff - 0.001, diff + 0.001, better)

    assert ship_verdict([row("iam", -0.002, 0.97), row("names", -0.001, 0.9), row("mean", -0.0015, 0.95)]) == []
    assert verdict_line([]) == "Ship rule: B ships."
    noise = ship_verdict([row("iam", -0.001, 0.8), row("names", 0.0, 0.5), row("mean", -0.0005, 0.77)])
    assert noise == ["better in 77 % of the resamplings of the mean (at least 90 % asked)"]
    worse = ship_verdict([row("iam", -0.008, 1.0), row("names", 0.0035, 0.1), row("mean", -0.0022, 0.92)])
    assert worse == ["names reads 0.35 points worse (at most 0.3 allowed)"]
    same = ship_verdict([row("iam", 0.003, 0.2), row("mean", 0.0, 0.5)])
    assert same[0] == "the mean CER is not lower (+0.00 points)"
    alone = ship_verdict([row("iam", -0.004, 0.99)])  # one set: its own row is the mean
    assert alone == [] and "does not ship: a; b." in verdict_line(["a", "b"])
