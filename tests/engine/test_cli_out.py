"""recognize --format --out: a folder that cannot be used is one clear line before any recognition."""

from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from tests.conftest import render_text


def test_an_out_that_is_a_file_stops_at_once_with_one_line(tmp_path):
    cv2.imwrite(str(tmp_path / "line.png"), render_text("hello"))
    (tmp_path / "taken").write_text("not a folder")
    out = subprocess.run([sys.executable, "-m", "htr_desktop", "recognize", "--format", "alto", "--out", "taken",
                          "line.png"], cwd=tmp_path, env={**os.environ, "PYTHONPATH": os.getcwd()},
                         capture_output=True, timeout=300, text=True)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.splitlines() == ["htr-desktop: --out taken: a file is in the way (--out names a folder)"]
    assert (tmp_path / "taken").read_text() == "not a folder"


def test_out_without_a_format_is_refused_rather_than_ignored(tmp_path):
    cv2.imwrite(str(tmp_path / "line.png"), render_text("hello"))
    out = subprocess.run([sys.executable, "-m", "htr_desktop", "recognize", "--out", "xml", "line.png"],
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": os.getcwd()}, capture_output=True,
                         timeout=300, text=True)
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr
    assert out.stderr.splitlines()[-1].endswith("error: --out needs --format page or alto (the files to write there)")


def test_a_failed_write_leaves_no_part_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    from htr_desktop import export
    from htr_desktop.regions import Page

    target = tmp_path / "out.txt"
    target.write_text("the earlier export")

    def full_disk(*_args, **_kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError) as failed:
        export.write(target, [Page(name="a.png", gray=np.zeros((8, 8), np.uint8), source="a.png")], fmt="txt")
    assert export.write_error(failed.value, target) == "the disk is full"
    assert target.read_text() == "the earlier export"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_full_disk_names_the_file_it_could_not_write(tmp_path, monkeypatch):
    """A multi-page input writes <stem>-p<n>.xml: the message names that file, not <stem>.xml."""
    from PIL import Image

    from htr_desktop import cli
    from model.recognizer import Recognizer

    pages = [Image.fromarray(render_text(w)) for w in ("one", "two")]
    tiff = tmp_path / "multi.tiff"
    pages[0].save(tiff, save_all=True, append_images=pages[1:])

    def full_disk(*_args, **_kw):
        raise OSError(28, "No space left on device")  # (as a write fails on a full disk: no file name)

    monkeypatch.setattr(os, "replace", full_disk)
    recognizer = Recognizer.load()
    doc = cli.recognize_path(recognizer, str(tiff), "line", cli.Output("alto", str(tmp_path / "xml")))
    assert doc == {"path": str(tiff), "error": f"cannot write {tmp_path / 'xml' / 'multi-p1.xml'}: the disk is full"}
    assert list((tmp_path / "xml").iterdir()) == []
