"""The headless CLI contract, on images rendered during the test."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from tests.conftest import render_text


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "htr_desktop", *args], capture_output=True, text=True, timeout=180)


@pytest.fixture
def images(tmp_path):
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), render_text("hello"))
    word = tmp_path / "word.jpg"
    cv2.imwrite(str(word), render_text("a"))
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    return good, word, corrupt, text, tmp_path / "missing.png"


def test_json_lines_one_per_input_and_errors(images):
    good, word, corrupt, text, missing = images
    out = run_cli("recognize", "--json", str(good), str(corrupt), str(word), str(text), str(missing))
    assert out.returncode != 0
    assert "Traceback" not in out.stderr + out.stdout
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(good), str(corrupt), str(word), str(text), str(missing)]
    for r in (rows[0], rows[2]):
        assert isinstance(r["text"], str) and 0.0 <= r["confidence"] <= 1.0 and "error" not in r
    for r in rows[1], rows[3], rows[4]:
        assert set(r) == {"path", "error"} and r["error"]
    assert "not found" in rows[4]["error"]


def test_all_good_exit_zero_and_layouts(images):
    good, word = images[0], images[1]
    for layout in ("line", "word", "auto"):
        out = run_cli("recognize", "--layout", layout, "--json", str(good), str(word))
        assert out.returncode == 0, out.stderr
        assert len(out.stdout.splitlines()) == 2


def test_plain_output_is_tab_separated(images):
    out = run_cli("recognize", "--layout", "line", str(images[0]))
    assert out.returncode == 0
    path, _, text = out.stdout.rstrip("\n").partition("\t")
    assert path == str(images[0])


def test_missing_model_is_a_clear_error(images, tmp_path):
    out = run_cli("recognize", "--json", "--model", str(tmp_path / "nomodel"), str(images[0]))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "model" in json.loads(out.stdout)["error"]


def test_version():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("htr-desktop ") and "model" in out.stdout


def test_worker_processes_for_many_inputs_or_a_few_large_ones(tmp_path):
    """Pages (large files) get every core from 2 inputs on; a few small ones (lines) are read in one process."""
    from htr_desktop.cli import POOL_MIN_BYTES, _worth_workers

    small, big = tmp_path / "line.png", tmp_path / "page.png"
    small.write_bytes(b"x" * 1000)
    big.write_bytes(b"x" * (POOL_MIN_BYTES // 2))
    assert not _worth_workers([str(small)]) and not _worth_workers([str(big)])
    assert not _worth_workers([str(small)] * 3) and not _worth_workers([str(big), str(tmp_path / "missing.png")])
    assert _worth_workers([str(big)] * 2) and _worth_workers([str(small)] * 4)


def test_folders_give_their_images_and_no_two_inputs_write_the_same_file(tmp_path):
    """A folder is read as the images (and PDFs) directly inside it, by name; an empty one says so. Inputs whose
    stems clash (a/p.png, b/p.png, b/P.jpg) write p.xml, P-2.xml, p-3.xml: none replaces another's file."""
    for folder, name, word in [("a", "p.png", "hello"), ("b", "p.png", "world"), ("b", "P.jpg", "minute"),
                               ("b", "notes.txt", "")]:
        (tmp_path / folder).mkdir(exist_ok=True)
        if word:
            cv2.imwrite(str(tmp_path / folder / name), render_text(word))
        else:
            (tmp_path / folder / name).write_text("not an image")
    (tmp_path / "empty").mkdir()
    out = run_cli("recognize", "--json", "--layout", "line", "--format", "page", "--out", str(tmp_path / "xml"),
                  str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "empty"))
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(tmp_path / p) for p in ("a/p.png", "b/P.jpg", "b/p.png", "empty")]
    assert [Path(r["written"][0]).name for r in rows[:3]] == ["p.xml", "P-2.xml", "p-3.xml"]
    assert sorted(f.name for f in (tmp_path / "xml").iterdir()) == ["P-2.xml", "p-3.xml", "p.xml"]
    assert rows[3]["error"].startswith("empty: no images in this folder (supported: png, jpg")
    assert out.returncode == 1 and "Traceback" not in out.stderr
