"""Every bad input gets a clear error: the CLI contract ({"path","error"}, others still run, non-zero exit, no
traceback) and the window (one message listing every bad file, nothing else changes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from tests.conftest import render_text

CLI = [sys.executable, "-m", "htr_desktop", "recognize", "--json"]


@pytest.fixture
def bad_files(tmp_path):
    cv2.imwrite(str(tmp_path / "good.png"), render_text("hello"))
    os.symlink("loop2", tmp_path / "loop1")
    os.symlink("loop1", tmp_path / "loop2")
    os.mkfifo(tmp_path / "fifo.png")
    (tmp_path / os.fsdecode(b"bad-\xffname.png")).write_bytes((tmp_path / "good.png").read_bytes())
    cv2.imwrite(str(tmp_path / "noise.png"), np.random.default_rng(0).integers(0, 256, (600, 800), dtype=np.uint8))
    for name, shape in (("1x1", (1, 1)), ("1x10000", (1, 10000)), ("10000x1", (10000, 1))):
        cv2.imwrite(str(tmp_path / f"{name}.png"), np.full(shape, 128, np.uint8))
    return tmp_path


def run(args, cwd, **kw):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    return subprocess.run(CLI + args, cwd=cwd, env=env, capture_output=True, timeout=300, **kw)


def test_cli_answers_every_bad_file_and_still_reads_the_good_one(bad_files):
    long_name = "a" * 300 + ".png"
    args = [long_name, "fifo.png", "loop1", "", "/dev/zero", "/proc/self/mem", os.fsdecode(b"bad-\xffname.png"),
            "noise.png", "good.png"]
    out = run(args, bad_files)
    assert out.returncode == 1
    assert b"Traceback" not in out.stderr
    lines = [json.loads(line) for line in out.stdout.decode("utf-8").splitlines()]  # valid UTF-8 JSON
    by_path = {d["path"]: d for d in lines}
    assert len(lines) == len(args)
    assert by_path[long_name]["error"].endswith("the file name is too long")
    assert by_path["fifo.png"]["error"] == "fifo.png: not an image file (a pipe)"
    assert "symbolic link loop" in by_path["loop1"]["error"]
    assert by_path[""]["error"] == "no file name given (an empty path)"
    assert by_path["/dev/zero"]["error"] == "zero: not an image file (a device)"
    assert "cannot be read" in by_path["/proc/self/mem"]["error"]
    assert "empty" not in by_path["/proc/self/mem"]["error"]
    assert "text" in by_path["bad-\\xffname.png"] and "text" in by_path["good.png"]
    assert by_path["noise.png"]["text"] == "" and by_path["noise.png"]["note"] == "no writing found"  # not garbage


def test_tiny_images_are_refused_the_same_way_in_every_layout(bad_files):
    for layout in ("page", "line", "auto"):
        out = run(["--layout", layout, "1x1.png", "1x10000.png", "10000x1.png"], bad_files)
        assert out.returncode == 1, layout
        errors = [json.loads(line)["error"] for line in out.stdout.decode().splitlines()]
        assert errors == ["1x1.png: the image is too small (1x1 pixels)",
                          "1x10000.png: the image is too small (10000x1 pixels)",
                          "10000x1.png: the image is too small (1x10000 pixels)"], layout


def test_stdout_on_a_full_disk_or_closed_fails_clearly(bad_files):
    with open("/dev/full", "wb") as full:
        out = subprocess.run(CLI + ["good.png"], cwd=bad_files, stdout=full, stderr=subprocess.PIPE, timeout=300,
                             env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert out.returncode != 0 and b"No space left" in out.stderr and b"Traceback" not in out.stderr
    closed = subprocess.run(CLI + ["good.png"], cwd=bad_files, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            timeout=300, env={**os.environ, "PYTHONPATH": os.getcwd()},
                            preexec_fn=lambda: os.close(1))
    assert closed.returncode != 0 and b"standard output is closed" in closed.stderr


def test_json_paths_are_ascii_safe_under_a_strict_ascii_stdout(bad_files):
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "PYTHONIOENCODING": "ascii:strict", "LC_ALL": "C"}
    out = subprocess.run(CLI + [os.fsdecode(b"bad-\xffname.png")], cwd=bad_files, env=env, capture_output=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.decode("ascii"))["path"] == "bad-\\xffname.png"


def test_the_window_lists_every_bad_file_and_opens_the_rest(qtbot, make_window, bad_files):
    window = make_window()
    window.open_paths([str(bad_files / ("b" * 300 + ".png")), str(bad_files / "fifo.png"),
                       str(bad_files / "loop1"), str(bad_files / os.fsdecode(b"bad-\xffname.png")),
                       str(bad_files / "good.png")])
    assert [p.name for p in window.workspace.pages] == [os.fsdecode(b"bad-\xffname.png"), "good.png"]
    text = window.messages.text()
    assert "Cannot open 3 files" in text and "too long" in text and "(a pipe)" in text and "loop" in text
    window.show_message("another problem", "error")
    assert "(a pipe)" in window.messages.text()  # a later error does not hide the earlier ones
    window.show_message("another problem", "error")  # the same error again (e.g. each image without a model)
    assert "(a pipe)" in window.messages.text() and window.messages.text().count("another problem") == 1


def test_the_api_refuses_nan_pixels_and_a_bad_batch_size():
    from model.recognizer import ImageError, Recognizer

    rec = Recognizer.load()
    line = render_text("hello").astype(np.float32)
    for bad in (np.nan, np.inf, -np.inf):
        image = line.copy()
        image[5, 5] = bad
        with pytest.raises(ImageError, match="NaN or infinite"):
            rec.recognize([image])
    for size in (-1, 0, 2.5, True):
        with pytest.raises(ValueError, match="max_batch"):
            rec.recognize([line], max_batch=size)
    assert rec.recognize([line], max_batch=1)[0].text == rec.recognize([line])[0].text


def test_noise_is_no_writing_and_writing_is_not_noise():
    from model.document import prepare_page
    from model.page import is_noise
    from tests.gui.conftest import render_page

    rng = np.random.default_rng(3)
    uniform = rng.integers(0, 256, (600, 800), dtype=np.uint8)
    faint = np.clip(rng.normal(200, 30, (600, 800)), 0, 255).astype(np.uint8)
    assert is_noise(prepare_page(uniform).binary) and is_noise(prepare_page(faint).binary)
    for writing in (render_page(), render_text("hello world"), render_text("hi")):
        assert not is_noise(prepare_page(writing).binary)
