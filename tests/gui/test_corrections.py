"""The corrections store: add, confirm again, delete, export/import, survives reopening, shares the app's store."""

import cv2
import numpy as np
import pytest

from htr_desktop.corrections import Corrections
from htr_desktop.store import Store
from tests.conftest import render_text


@pytest.fixture
def corrections(tmp_path):
    store = Store.open(tmp_path / "data")
    yield Corrections(store)
    store.close()


def test_add_keeps_crop_text_reading_and_origin(corrections):
    crop = render_text("hello world")
    cid = corrections.add(crop, "hello  world ", model_text="hallo world", source="/scans/a.png", box=(1, 2, 30, 4))
    [c] = corrections.all()
    assert c.id == cid and c.text == "hello world" and c.model_text == "hallo world"
    assert c.source == "/scans/a.png" and c.box == (1, 2, 30, 4) and c.kind == "line"
    assert np.array_equal(corrections.image(c), crop)
    assert corrections.count() == 1
    assert corrections.summary() == {"samples": 1, "corrected": 1}


def test_confirming_the_same_box_again_replaces_it(corrections):
    corrections.add(render_text("helo"), "helo", source="a.png", box=(0, 0, 10, 10))
    corrections.add(render_text("hello"), "hello", source="a.png", box=(0, 0, 10, 10))
    corrections.add(render_text("other"), "other", source="a.png", box=(0, 20, 10, 10))
    assert sorted(c.text for c in corrections.all()) == ["hello", "other"]


def test_empty_text_is_refused(corrections):
    with pytest.raises(ValueError, match="empty"):
        corrections.add(render_text("x"), "   ")
    assert corrections.count() == 0


def test_delete_removes_rows_and_their_images(corrections):
    a = corrections.add(render_text("one"), "one")
    corrections.add(render_text("two"), "two")
    assert corrections.delete([a]) == 1
    assert [c.text for c in corrections.all()] == ["two"]
    blobs = corrections.store.con.execute("SELECT COUNT(*) FROM blobs").fetchone()[0]
    assert blobs == 1


def test_export_then_import_round_trips_and_never_overwrites(corrections, tmp_path):
    corrections.add(render_text("one"), "one")
    corrections.add(render_text("two"), "two")
    out = tmp_path / "export"
    assert corrections.export(out) == 2
    assert corrections.export(out) == 2  # a second export beside the first: new names
    assert len(list(out.glob("*.png"))) == 4 and len(list(out.glob("*.txt"))) == 4
    other = Corrections(Store.open(tmp_path / "other"))
    (out / "broken.png").write_bytes(b"nope")
    (out / "broken.txt").write_text("x")
    problems: list[str] = []
    assert other.import_folder(out, problems) == 2  # the second export's copies are not kept twice
    assert len(problems) == 3 and "broken.png" in problems[0]
    assert sum("already kept" in p for p in problems) == 2
    assert sorted(c.text for c in other.all()) == ["one", "two"]
    assert other.import_folder(out, []) == 0 and other.count() == 2  # importing the folder again adds nothing
    assert {s.image.shape for s in other.samples()} == {render_text("one").shape, render_text("two").shape}
    assert cv2.imread(str(out / "sample-00001.png"), cv2.IMREAD_GRAYSCALE).shape == render_text("one").shape


def test_samples_survive_reopening_the_store(tmp_path):
    store = Store.open(tmp_path / "d")
    Corrections(store).add(render_text("kept"), "kept")
    store.close()
    again = Corrections(Store.open(tmp_path / "d"))
    assert [s.text for s in again.samples()] == ["kept"]
