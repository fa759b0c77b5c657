"""Right-click on a word: the decoder's other readings (and word-list neighbours); picking one replaces the word."""

from __future__ import annotations

from model.recognizer import Prediction, Word
from tests.gui.conftest import FakeRecognizer, wait_recognized


class NBestRecognizer(FakeRecognizer):
    """Like the fake, with n-best alternatives for the doubtful word."""

    def recognize(self, images):
        return [Prediction(p.text, p.confidence, (p.words[0], Word("low", 0.21, ("law", "lour"))))
                for p in super().recognize(images)]


def _point_in(edit, start, end):
    cursor = edit.textCursor()
    cursor.setPosition(start)
    a = edit.cursorRect(cursor).center()
    cursor.setPosition(end)
    b = edit.cursorRect(cursor).center()
    return (a + b) / 2


def test_right_click_offers_alternatives_and_replaces_the_word(qtbot, make_window, line_file):
    window = make_window(recognizer=NBestRecognizer())
    window.open_paths([str(line_file)])
    page = wait_recognized(qtbot, window)
    region = page.regions[0]
    assert region.words[1].alternatives == ("law", "lour")
    edit = window.results.rows[region.id].edit
    qtbot.waitExposed(window)
    qtbot.wait(50)
    start = len(region.text) - 3
    menu = edit.context_menu(_point_in(edit, start, start + 3))
    texts = [a.text() for a in menu.actions()]
    assert texts[0] == "Other readings of “low”" and texts[1:3] == ["law", "lour"]
    assert not menu.actions()[0].isEnabled()
    menu.actions()[1].trigger()
    assert region.text.endswith(" law") and region.edited
    assert [w.text for w in region.words][-1] == "law"
    window.actions_["undo"].trigger()
    assert page.regions[0].text.endswith(" low") and not page.regions[0].edited


def test_alternatives_survive_a_session_round_trip():
    from htr_desktop.regions import RegionWord

    word = RegionWord("low", 0.21, (1, 2, 3, 4), ("law",))
    assert RegionWord.from_json(word.to_json()) == word
