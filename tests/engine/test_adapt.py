"""Personal adaptation without TensorFlow: CTC gradient, weights in .tflite files, the numpy head, safety rules."""

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from model import adapt as adapt_module
from model.adapt import AdaptError, AdaptOptions, FeatureReader, LabelledImage, adapt, cer, make_folds
from model.ctc import ctc_loss_grad
from model.head import Head
from model.lines import read_lines_folder
from model.recognizer import Recognizer, bucket_width
from model.tflite_weights import TfliteWeights
from tests.conftest import render_text

TINY = Path(__file__).resolve().parent.parent / "data" / "tiny_model"
ROOT = Path(__file__).resolve().parent.parent.parent
# The tiny model learns "ton" in a few rounds; a time budget that a loaded machine cannot cut short.
QUICK = {"minutes": 5.0, "max_epochs": 15, "patience": 4, "learning_rate": 0.03, "jittered": 0}


def _samples(text: str = "ton", n: int = 15) -> list[LabelledImage]:
    return [LabelledImage(render_text(text), text) for _ in range(n)]


def _brute_force_nll(logits: np.ndarray, labels: list[int]) -> float:
    """-log sum over every alignment that collapses to ``labels``."""
    T, C = logits.shape
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    total = 0.0
    for path in itertools.product(range(C), repeat=T):
        collapsed = [k for i, k in enumerate(path) if k != 0 and (i == 0 or path[i - 1] != k)]
        if collapsed == labels:
            total += np.exp(sum(logp[t, k] for t, k in enumerate(path)))
    return float(-np.log(total))


def test_ctc_loss_is_the_sum_over_alignments():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 3))
    for labels in ([1], [1, 2], [1, 1], [2, 1, 2]):
        loss, _ = ctc_loss_grad(logits, labels)
        assert loss == pytest.approx(_brute_force_nll(logits, labels), rel=1e-6)


def test_ctc_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(12, 6))
    labels = [1, 3, 3, 5]
    _, grad = ctc_loss_grad(logits, labels)
    eps = 1e-5
    for t, k in [(0, 0), (3, 3), (7, 5), (11, 2)]:
        up, down = logits.copy(), logits.copy()
        up[t, k] += eps
        down[t, k] -= eps
        numeric = (ctc_loss_grad(up, labels)[0] - ctc_loss_grad(down, labels)[0]) / (2 * eps)
        assert grad[t, k] == pytest.approx(numeric, abs=1e-6)


def test_impossible_label_gives_infinite_loss_and_no_gradient():
    loss, grad = ctc_loss_grad(np.zeros((2, 4)), [1, 1, 1])
    assert loss == float("inf")
    assert not grad.any()


def test_weights_found_without_assuming_sizes():
    tw = TfliteWeights((TINY / "crnn_b1.tflite").read_bytes())
    assert tw.lstm_layers == 2
    assert tw.get("logits/kernel").shape == (32, 80)  # 2 x 16 units -> 80 classes
    assert tw.get("bilstm1/forward/kernel").shape == (32, 64)
    assert tw.get("bilstm1/backward/recurrent").shape == (16, 64)


def test_numpy_head_reproduces_the_tflite_output():
    rec = Recognizer.load(TINY)
    data = (TINY / "crnn_b1.tflite").read_bytes()
    tw = TfliteWeights(data)
    tensor = rec.prepare(render_text("hello"))
    batch = np.zeros((1, 32, bucket_width(tensor.shape[1]), 1), np.float32)
    batch[0, :, : tensor.shape[1], 0] = tensor
    head = Head({k: tw.get(k) for k in tw.refs if not k.startswith("bilstm0/")}, first_layer=1, layers=1)
    logits, _ = head.forward(FeatureReader(data).read(batch, layer=1))
    assert np.abs(logits - rec.logits(batch)[0]).max() < 0.05 * np.abs(logits).max()


def test_changed_weights_are_written_into_the_tflite_file(tmp_path):
    data = (TINY / "crnn_b1.tflite").read_bytes()
    tw = TfliteWeights(data)
    bias = tw.get("logits/bias")
    bias[0] += 100.0  # blank everywhere
    tw.set("logits/bias", bias)
    kernel = tw.get("bilstm1/forward/kernel") * 0.5
    tw.set("bilstm1/forward/kernel", kernel)
    again = TfliteWeights(tw.to_bytes())
    assert np.allclose(again.get("logits/bias"), bias)
    assert np.abs(again.get("bilstm1/forward/kernel") - kernel).max() <= np.abs(kernel).max() / 127 + 1e-6
    bundle = tmp_path / "b"
    shutil.copytree(TINY, bundle)
    (bundle / "crnn_b1.tflite").write_bytes(again.to_bytes())
    assert Recognizer.load(bundle).recognize([render_text("hello")])[0].text == ""


def test_every_line_is_held_aside_in_exactly_one_round():
    folds = make_folds(15, 3)
    assert [len(f) for f in folds] == [5, 5, 5] and sorted(sum(folds, [])) == list(range(15))
    assert sorted(sum(make_folds(40, 3), [])) == list(range(40))
    assert len(make_folds(10, 7)) == 5  # each round keeps at least two lines aside
    with pytest.raises(AdaptError, match="at least 10"):
        make_folds(9, 3)


def _ruined(original, first_layer, layers, data, folds, *args, **kwargs):
    """A stand-in for ``cross_validate`` whose models read nothing (only blanks)."""
    weights = {k: v.copy() for k, v in original.items()}
    weights["logits/bias"][0] += 100.0
    return [weights for _ in folds], [{"epoch": 0, "held_cer": 0.5, "held_loss": 1.0},
                                      {"epoch": 1, "held_cer": 0.4, "held_loss": 1.0}]


def test_cer():
    assert cer(["abcd"], ["abxd"]) == 0.25
    assert cer(["a  b"], [" a b "]) == 0.0


def test_adapt_installs_a_better_model_that_recognizes(tmp_path):
    out = tmp_path / "personal"
    result = adapt(_samples(), out, model=TINY, opts=AdaptOptions(**QUICK))
    assert result.installed and result.cer_after < result.cer_before
    assert result.held_lines == 15 and result.train_lines == 15  # each line kept aside in one round
    rec = Recognizer.load(out)
    assert rec.info.extra["adapted_from"] == "0.0-tiny"
    assert "+personal." in rec.version
    assert rec.info.figures["personal"]["held_cer_after"] == pytest.approx(result.cer_after, abs=1e-4)
    assert rec.recognize([render_text("ton")])[0].text != Recognizer.load(TINY).recognize([render_text("ton")])[0].text


def test_a_worse_model_is_never_installed(tmp_path, monkeypatch):
    out = tmp_path / "personal"
    out.mkdir()
    (out / "keep.txt").write_text("the model in use")

    samples = _samples()
    trained = tmp_path / "trained"  # a model that reads these lines: ruining it can only be worse
    assert adapt(samples, trained, model=TINY, opts=AdaptOptions(**QUICK)).installed
    monkeypatch.setattr(adapt_module, "cross_validate", _ruined)
    result = adapt(samples, out, model=trained)
    assert not result.installed and "not better" in result.reason
    assert result.cer_after >= result.cer_before
    assert (out / "keep.txt").read_text() == "the model in use"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".adapt-")] == []


def test_an_adapted_model_that_fails_to_load_is_not_installed(tmp_path, monkeypatch):
    def broken(base, info, weights, out, figures):
        out.mkdir(parents=True, exist_ok=True)
        (out / "model.json").write_text("{ not json")

    monkeypatch.setattr(adapt_module, "write_bundle", broken)
    result = adapt(_samples(), tmp_path / "personal", model=TINY, opts=AdaptOptions(**QUICK))
    assert not result.installed and "does not load" in result.reason
    assert not (tmp_path / "personal").exists()


def test_too_few_lines_is_a_clear_error(tmp_path):
    with pytest.raises(AdaptError, match="at least 10 corrected lines; there are 4"):
        adapt(_samples(n=4), tmp_path / "p", model=TINY)


def _lines_folder(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(n):
        cv2.imwrite(str(folder / f"l{i:02d}.png"), render_text("ton"))
        (folder / f"l{i:02d}.txt").write_text("ton\n")
    return folder


def test_lines_folder_skips_bad_files_and_says_why(tmp_path):
    folder = _lines_folder(tmp_path / "lines", 3)
    (folder / "broken.png").write_bytes(b"not an image")
    (folder / "broken.txt").write_text("x")
    cv2.imwrite(str(folder / "no-text.png"), render_text("x"))
    problems: list[str] = []
    samples = read_lines_folder(folder, problems)
    assert len(samples) == 3 and {s.text for s in samples} == {"ton"}
    assert len(problems) == 2 and any("no-text.png" in p for p in problems)


def test_cli_adapts_without_importing_tensorflow(tmp_path):
    folder = _lines_folder(tmp_path / "lines", 15)
    out = tmp_path / "personal"
    code = (
        "import sys, runpy\n"
        "sys.argv = ['htr-desktop', 'adapt', '--lines', sys.argv[1], '--out', sys.argv[2], '--model', sys.argv[3],"
        " '--minutes', '0.5']\n"
        "from htr_desktop.__main__ import main\n"
        "rc = main(sys.argv[1:])\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'\n"
        "sys.exit(rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(folder), str(out), str(TINY)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    last = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "%]" in proc.stderr  # progress goes to stderr
    assert set(last) >= {"cer_before", "cer_after", "installed", "held_lines"}
    assert last["held_lines"] == 15
    if last["installed"]:
        assert proc.returncode == 0 and Recognizer.load(out).recognize([render_text("ton")])
    else:
        assert proc.returncode == 1 and not out.exists()


def test_cli_reports_bad_input_as_json(tmp_path):
    folder = _lines_folder(tmp_path / "lines", 3)
    proc = subprocess.run([sys.executable, "-m", "htr_desktop", "adapt", "--lines", str(folder), "--out",
                           str(tmp_path / "o"), "--model", str(TINY)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert "at least 10" in json.loads(proc.stdout.strip().splitlines()[-1])["error"]
    assert "Traceback" not in proc.stderr


def test_decoder_candidates_relax_the_language_model_only_when_there_is_one():
    from model.adapt import decoder_candidates
    from model.decoder_config import DecoderConfig

    assert decoder_candidates(DecoderConfig(name="greedy")) == [DecoderConfig(name="greedy")]
    lm = DecoderConfig(name="beam+lm+words", lm="lm.arpa", lm_weight=1.2, words="w.tsv.gz", words_weight=0.2)
    base, half = decoder_candidates(lm)
    assert base == lm and half.lm_weight == 0.6 and half.words_weight == 0.1 and half.name == lm.name


def test_the_chosen_decoder_is_written_into_the_personal_bundle(tmp_path):
    out = tmp_path / "personal"
    result = adapt(_samples(), out, model=TINY, opts=AdaptOptions(**QUICK))
    assert result.installed
    info = Recognizer.load(out).info
    assert info.decoder.name == "greedy" and info.figures["personal"]["decoder"] == "greedy"


def _random_head(rng: np.random.Generator, features: int = 12, units: int = 8, classes: int = 7) -> Head:
    weights = {}
    for j in range(2):
        fan_in = features if j == 0 else 2 * units
        for d in ("forward", "backward"):
            weights[f"bilstm{j}/{d}/kernel"] = rng.normal(0, 0.4, (fan_in, 4 * units)).astype(np.float32)
            weights[f"bilstm{j}/{d}/recurrent"] = rng.normal(0, 0.4, (units, 4 * units)).astype(np.float32)
            weights[f"bilstm{j}/{d}/bias"] = rng.normal(0, 0.4, 4 * units).astype(np.float32)
    weights["logits/kernel"] = rng.normal(0, 0.4, (2 * units, classes)).astype(np.float32)
    weights["logits/bias"] = rng.normal(0, 0.4, classes).astype(np.float32)
    return Head(weights, first_layer=0, layers=2)


def test_a_padded_batch_gives_what_each_line_gives_alone():
    rng = np.random.default_rng(0)
    head = _random_head(rng)
    xs = [rng.normal(size=(n, 12)).astype(np.float32) for n in (9, 4, 13)]
    dls = [rng.normal(size=(len(x), 7)).astype(np.float32) for x in xs]
    logits, cache = head.forward_batch(xs)
    together = head.backward_batch(dls, cache)
    alone: dict[str, np.ndarray] = {}
    for x, dl, lg in zip(xs, dls, logits):
        one, c = head.forward(x)
        assert lg.shape == one.shape and np.allclose(lg, one, atol=1e-5)
        for key, g in head.backward(dl, c).items():
            alone[key] = alone.get(key, 0) + g
    assert set(together) == set(alone) and len(together) == 14
    for key in together:
        assert np.allclose(together[key], alone[key], atol=1e-4), key


def test_head_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    head = _random_head(rng, features=5, units=3, classes=4)
    x = rng.normal(size=(6, 5)).astype(np.float32)
    labels = [1, 3, 1]

    def loss() -> float:
        return ctc_loss_grad(head.forward(x)[0].astype(np.float64), labels)[0]

    logits, cache = head.forward(x)
    grads = head.backward(ctc_loss_grad(logits, labels)[1].astype(np.float32), cache)
    for key in ("bilstm0/forward/kernel", "bilstm0/backward/recurrent", "bilstm1/forward/bias", "logits/kernel"):
        w = head.weights[key].reshape(-1)
        for i in (0, w.size // 2, w.size - 1):
            old = w[i]
            w[i] = old + 1e-2
            up = loss()
            w[i] = old - 1e-2
            down = loss()
            w[i] = old
            assert abs((up - down) / 2e-2 - grads[key].reshape(-1)[i]) < 2e-2 * max(1.0, abs(up - down) / 2e-2), key


def test_jitter_keeps_the_line_readable_and_differs():
    from model.jitter import jitter

    image = render_text("ton")
    copies = [jitter(image, np.random.default_rng(seed)) for seed in range(4)]
    assert all(c.dtype == np.uint8 and c.ndim == 2 for c in copies)
    assert all(0.8 * image.shape[1] < c.shape[1] < 1.6 * image.shape[1] for c in copies)
    assert len({c.tobytes() for c in copies}) == 4
    assert np.array_equal(jitter(image, np.random.default_rng(0)), copies[0])
    rec = Recognizer.load(TINY)
    assert all(rec.prepare(c).shape[0] == rec.prepare(image).shape[0] for c in copies)


def test_the_installed_model_trains_on_every_line_for_the_chosen_epochs(tmp_path, monkeypatch):
    calls = []
    real = adapt_module.train_head

    def counted(head, train, *args, **kwargs):
        calls.append((len(train), kwargs.get("epochs")))
        return real(head, train, *args, **kwargs)

    monkeypatch.setattr(adapt_module, "train_head", counted)
    out = tmp_path / "personal"
    opts = AdaptOptions(**{**QUICK, "jittered": 1})
    result = adapt(_samples(), out, model=TINY, opts=opts)
    assert result.installed and result.epochs > 0
    assert calls == [(15, result.epochs)] and result.refit_epochs == result.epochs
    personal = Recognizer.load(out).info.figures["personal"]
    assert personal["refit_epochs"] == result.epochs and personal["refit_lines"] == 15 and personal["folds"] == 3
    assert personal["held_cer_after"] == pytest.approx(result.cer_after, abs=1e-4)
    assert [p.name for p in tmp_path.iterdir()] == ["personal"]


def test_a_final_model_that_reads_its_own_lines_worse_is_not_installed(tmp_path, monkeypatch):
    real = adapt_module.train_head

    def ruined(head, *args, **kwargs):
        weights, history = real(head, *args, **kwargs)
        weights["logits/bias"][0] += 100.0  # the final training went wrong: only blanks
        return weights, history

    monkeypatch.setattr(adapt_module, "train_head", ruined)
    out = tmp_path / "personal"
    result = adapt(_samples(), out, model=TINY, opts=AdaptOptions(**QUICK))
    assert result.cer_after < result.cer_before  # the cross-validated models were better ...
    assert not result.installed and "worse" in result.reason  # ... but the one to install is not
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_personal_words_join_the_word_list(tmp_path):
    import gzip

    from model.adapt import personal_words, with_personal_words, write_personal_words
    from model.lexicon import Lexicon

    assert personal_words(["Dear Mr. Hobbs,", "it's 12 o'clock -- fine."]) == {"dear", "mr", "hobbs", "it's",
                                                                              "o'clock", "fine"}
    source = tmp_path / "words.tsv.gz"
    with gzip.open(source, "wt", encoding="utf-8") as fh:
        fh.write("the\t0.05\ndear\t0.0001\n")
    lexicon = with_personal_words(Lexicon.load(source, weight=1.0, unknown=-18.0), {"hobbs", "the"}, -9.0)
    assert lexicon.score("Hobbs,") == pytest.approx(-9.0) and lexicon.score("the") == pytest.approx(np.log(0.05))
    write_personal_words(source, tmp_path / "out.tsv.gz", ["Dear Hobbs"], -5.0)
    written = Lexicon.load(tmp_path / "out.tsv.gz", weight=1.0)
    assert written.score("hobbs") == pytest.approx(-5.0, abs=1e-4) and written.score("dear") == pytest.approx(-5.0,
                                                                                                            abs=1e-4)
    assert written.score("the") == pytest.approx(np.log(0.05), abs=1e-4)


def test_personal_words_are_written_into_the_personal_bundle_when_they_help(tmp_path):
    bundle = tmp_path / "base"
    shutil.copytree(TINY, bundle)
    info = json.loads((bundle / "model.json").read_text())
    import gzip

    with gzip.open(bundle / "words.tsv.gz", "wt", encoding="utf-8") as fh:
        fh.write("ten\t0.01\ntan\t0.01\n")
    info["decoder"] = {"name": "beam+lm+words", "words": "words.tsv.gz", "words_weight": 1.0, "beam_width": 8}
    (bundle / "model.json").write_text(json.dumps(info))
    out = tmp_path / "personal"
    result = adapt(_samples(), out, model=bundle, opts=AdaptOptions(**QUICK))
    assert result.installed
    from model.lexicon import Lexicon

    words = Lexicon.load(out / "words.tsv.gz")
    if result.personal_words is not None:  # chosen by the rounds: "ton" is in the personal word list
        assert words.log_freq["ton"] == pytest.approx(result.personal_words, abs=1e-4)
    else:
        assert "ton" not in words.log_freq


def test_early_stopping_ranks_by_cer_or_by_loss():
    from model.adapt import _rank

    cer_first, loss_first = AdaptOptions(select="cer"), AdaptOptions(select="loss")
    better_cer, better_loss = (0.02, 0.30), (0.03, 0.20)  # (greedy CER, loss per character) on the held-aside lines
    assert _rank(*better_cer, cer_first) < _rank(*better_loss, cer_first)
    assert _rank(*better_loss, loss_first) < _rank(*better_cer, loss_first)


def test_a_stretch_is_chosen_only_if_it_reads_the_lines_clearly_better(monkeypatch):
    from model.adapt import choose_stretch

    rec = Recognizer.load(TINY)
    samples = _samples(n=3)
    truths = ["ton"] * 3

    def reads(scale_that_reads):
        def fake(recognizer, images):
            return ["ton" if recognizer.info.input_spec.x_scale == scale_that_reads else "tn" for _ in images]
        return fake

    monkeypatch.setattr(adapt_module, "_recognize_texts", reads(1.5))
    assert choose_stretch(rec, TINY, samples, truths, before=1 / 3).info.input_spec.x_scale == 1.5
    monkeypatch.setattr(adapt_module, "_recognize_texts", reads(1.0))  # every stretch reads worse: none is taken
    assert choose_stretch(rec, TINY, samples, truths, before=0.0) is rec


def test_the_chosen_stretch_is_recorded_in_the_personal_bundle_and_applied(tmp_path, monkeypatch):
    from dataclasses import replace

    def stretched(rec, base, *args):
        return Recognizer(base, replace(rec.info, input_spec=replace(rec.info.input_spec, x_scale=1.25)))

    monkeypatch.setattr(adapt_module, "choose_stretch", stretched)
    out = tmp_path / "personal"
    result = adapt(_samples(), out, model=TINY, opts=AdaptOptions(**QUICK))
    assert result.installed
    assert json.loads((out / "model.json").read_text())["input"]["x_scale"] == 1.25
    image = render_text("ton")
    personal, base = Recognizer.load(out), Recognizer.load(TINY)
    assert abs(personal.prepare(image).shape[1] - 1.25 * base.prepare(image).shape[1]) <= 2


def test_no_time_left_for_the_final_training_still_gives_an_answer(tmp_path, monkeypatch):
    monkeypatch.setattr(adapt_module, "FINISH_SECONDS", 1e6)  # the rounds used up the whole budget
    result = adapt(_samples(), tmp_path / "personal", model=TINY, opts=AdaptOptions(**QUICK))
    assert result.cer_after < result.cer_before and result.epochs > 1
    assert result.refit_epochs == 1  # one epoch on every line, then the budget stops it
    assert result.installed == (tmp_path / "personal").is_dir()
