"""The window's adaptation flow: Confirm line, the sample count, review, Adapt in the background, going back."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton

from htr_desktop import app as app_module
from htr_desktop.corrections import Corrections
from model import adapt as adapt_module
from tests.conftest import render_text
from tests.gui.conftest import wait_recognized

TINY = Path(__file__).resolve().parent.parent / "data" / "tiny_model"


@pytest.fixture
def quick_models(monkeypatch, window):
    """Model reloads use the test's fake recognizer; adapting starts from the tiny test bundle, quickly."""
    monkeypatch.setattr(app_module, "model_loader", lambda settings: (lambda: window.fake))
    window.personal.adapt_options = {"minutes": 5.0, "max_epochs": 15, "patience": 4, "learning_rate": 0.03,
                                     "jittered": 0}
    window.settings.set("model/path", str(TINY))
    return window


def _fill(corrections: Corrections, n: int, text: str = "ton") -> None:
    for _ in range(n):
        corrections.add(render_text(text), text)


def test_confirm_line_keeps_the_crop_and_the_corrected_text(qtbot, window, line_file):
    window.open_paths([str(line_file)])
    page = wait_recognized(qtbot, window)
    region = page.regions[0]
    window.results.highlight(region.id)
    window.workspace.set_text(region.id, "hello world")
    window.personal.actions["confirm"].trigger()
    [sample] = window.personal.corrections.all()
    assert sample.text == "hello world" and sample.model_text == f"w{region.box[2]} low"
    assert sample.source == str(line_file) and sample.box == tuple(region.box)
    assert window.personal.corrections.image(sample).shape == (region.box[3], region.box[2])
    assert window.personal.count_label.text() == "1 line of your handwriting"
    window.personal.actions["confirm"].trigger()  # the same line again: still one sample
    assert window.personal.corrections.count() == 1


def test_enter_in_a_row_keeps_the_line(qtbot, window, page_file):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window.settings.set("recognition/layout", "page")
    window.open_paths([str(page_file)])
    page = wait_recognized(qtbot, window, 2)
    first = page.regions[0]
    QTest.keyClick(window.results.rows[first.id].edit, Qt.Key.Key_Return)
    [sample] = window.personal.corrections.all()
    assert sample.text == first.text and sample.model_text == first.text  # unchanged: confirmed as it is
    assert window.personal.count_label.text() == "1 line of your handwriting"


def test_confirm_without_a_selected_line_says_what_to_do(window):
    window.personal.confirm_line()
    assert "Select a line" in window.messages.label.text()
    assert window.personal.corrections.count() == 0


def test_samples_survive_a_restart_of_the_window(make_window, tmp_path):
    first = make_window(session_dir=tmp_path / "data" / "session")
    _fill(first.personal.corrections, 3)
    first.close()
    second = make_window(session_dir=tmp_path / "data" / "session")
    assert second.personal.corrections.count() == 3
    assert second.personal.count_label.text() == "3 lines of your handwriting"


def test_review_dialog_deletes_exports_and_imports(qtbot, window, tmp_path):
    from htr_desktop.samples_dialog import SamplesDialog

    corrections = window.personal.corrections
    _fill(corrections, 1, "one")
    _fill(corrections, 1, "two")
    dialog = SamplesDialog(corrections, window)
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 2 and dialog.summary.text() == "2 lines of your handwriting"
    dialog.export_to(tmp_path / "out")
    assert len(list((tmp_path / "out").glob("*.txt"))) == 2
    dialog.list.item(0).setSelected(True)
    dialog.delete_selected()
    assert corrections.count() == 1 and dialog.list.count() == 1
    dialog.import_from(tmp_path / "out")
    assert corrections.count() == 2 and "Imported 1 " in dialog.status.text()  # the deleted one comes back
    assert "already kept" in dialog.status.text()


def test_too_few_samples_to_adapt_is_explained(window):
    _fill(window.personal.corrections, 4)
    window.personal.actions["adapt"].trigger()
    assert "at least 10" in window.messages.label.text()
    assert window.personal.job is None


def test_adapt_runs_in_the_background_installs_and_goes_back(qtbot, quick_models):
    window = quick_models
    _fill(window.personal.corrections, 15)
    with qtbot.waitSignal(window.personal.adapt_done, timeout=120000) as done:
        window.personal.actions["adapt"].trigger()
        assert window.personal.dialog is not None and window.personal.dialog.isVisible()
        assert not window.personal.actions["adapt"].isEnabled()  # one adaptation at a time
    result = done.args[0]
    assert result.installed and result.cer_after < result.cer_before
    path = Path(window.settings.model_path)
    assert path.parent.name == "models" and (path / "model.json").is_file()
    assert "personal model is in use" in window.messages.label.text()
    assert window.personal.dialog is None
    from htr_desktop.personal import describe_model
    from model.bundle import read_info

    assert describe_model(str(path), read_info(path)).startswith("personal model ")  # what Settings shows
    assert "on 15 of your lines" in describe_model(str(path), read_info(path))
    window.personal.actions["bundled"].trigger()
    assert window.settings.model_path == ""


def test_a_worse_model_is_not_installed_from_the_window(qtbot, quick_models, monkeypatch):
    window = quick_models

    def ruin(original, first_layer, layers, data, folds, *args, **kwargs):
        weights = {k: v.copy() for k, v in original.items()}
        weights["logits/bias"][0] += 100.0  # the models of every round read nothing
        return [weights for _ in folds], [{"epoch": 0, "held_cer": 1.0, "held_loss": 1.0}]

    monkeypatch.setattr(adapt_module, "cross_validate", ruin)
    _fill(window.personal.corrections, 15)
    with qtbot.waitSignal(window.personal.adapt_done, timeout=120000) as done:
        window.personal.start_adapt()
    assert not done.args[0].installed
    assert window.settings.model_path == str(TINY)
    assert "did not change" in window.messages.label.text()
    assert not (Path(window.session_dir).parent / "models").exists() or not any(
        p.name.startswith("personal-") for p in (Path(window.session_dir).parent / "models").iterdir())


def test_cancel_stops_adapting_and_keeps_the_model(qtbot, quick_models):
    window = quick_models
    _fill(window.personal.corrections, 15)
    with qtbot.waitSignal(window.personal.adapt_done, timeout=120000) as done:
        window.personal.start_adapt()
        window.personal.dialog.findChild(QPushButton).click()  # the dialog's Cancel button
    assert done.args[0] == "Adapting was cancelled; the model in use did not change."
    assert window.settings.model_path == str(TINY)
    assert window.personal.job is None and window.personal.actions["adapt"].isEnabled()


def test_settings_shows_the_model_in_use(qtbot, window):
    from htr_desktop.personal import describe_model
    from htr_desktop.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.settings, window, in_use=describe_model("", window.service.info))
    qtbot.addWidget(dialog)
    assert dialog.in_use.text().startswith("In use: ")


def test_the_hint_to_adapt_appears_once_enough_samples_exist(window):
    from htr_desktop.personal import HINT_AT

    _fill(window.personal.corrections, HINT_AT - 1)
    window.personal.refresh()
    assert "Adapt to my handwriting" not in window.messages.label.text()
    _fill(window.personal.corrections, 1)
    window.personal.refresh()
    assert f"{HINT_AT} lines of your handwriting are kept" in window.messages.label.text()
    window.messages.label.setText("")
    window.personal.refresh()
    assert window.messages.label.text() == ""  # once per run


def test_a_personal_model_that_no_longer_loads_gives_way_to_the_bundled_one(qtbot, make_window, settings, tmp_path,
                                                                            monkeypatch, fake):
    from model.bundle import ModelError

    broken = tmp_path / "data" / "models" / "personal-1"
    broken.mkdir(parents=True)
    settings.set("model/path", str(broken))
    monkeypatch.setattr(app_module, "model_loader", lambda s: (lambda: fake))

    def fails():
        raise ModelError("model.json is missing")

    window = make_window(loader=fails, session_dir=tmp_path / "data" / "session")
    qtbot.waitUntil(lambda: window.settings.model_path == "", timeout=10000)
    assert "personal model cannot be loaded (model.json is missing)" in window.messages.label.text()
    assert "bundled model is in use again" in window.messages.label.text()


def test_a_chosen_model_that_fails_to_load_is_not_replaced(qtbot, make_window, settings, tmp_path):
    from model.bundle import ModelError

    settings.set("model/path", str(tmp_path / "elsewhere"))

    def fails():
        raise ModelError("no such folder")

    window = make_window(loader=fails, session_dir=tmp_path / "data" / "session")
    qtbot.waitUntil(lambda: "cannot be loaded" in window.messages.label.text(), timeout=10000)
    assert window.settings.model_path == str(tmp_path / "elsewhere")  # the user's own choice: only reported


def test_the_result_says_what_was_chosen_for_the_hand():
    from htr_desktop.personal import describe_choices
    from model.adapt import AdaptResult

    result = AdaptResult(0.2, 0.1, 15, 15, 5, 60.0, True)
    assert describe_choices(result) == ""
    result.stretch, result.personal_words = 1.25, -9.0
    result.decoder = "beam+lm (language model and word list at half weight)"
    assert describe_choices(result) == ("Chosen for your hand: lines read 1.25 times as wide; the language model "
                                        "and word list at half weight; your words added to the word list. ")
