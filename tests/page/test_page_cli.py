"""The CLI contract for pages: ``recognize --layout page|auto --json``."""

from __future__ import annotations

import json

import cv2
import pytest

from htr_desktop.cli import run_recognize


@pytest.fixture
def page_file(tmp_path, scan_pages):
    path = tmp_path / "page.jpg"
    cv2.imwrite(str(path), scan_pages[2].image)
    return path, scan_pages[2]


def _run(capsys, argv):
    code = run_recognize(argv)
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    return code, out


@pytest.mark.parametrize("layout", ["page", "auto"])
def test_page_json(capsys, page_file, layout):
    path, page = page_file
    code, out = _run(capsys, ["--layout", layout, "--json", str(path)])
    assert code == 0 and len(out) == 1
    result = out[0]
    assert result["path"] == str(path)
    assert {"path", "text", "confidence", "layout", "lines"} <= set(result)
    assert 0.0 <= result["confidence"] <= 1.0
    lines = result["lines"]
    assert len(lines) == len(page.boxes)
    assert result["text"].split("\n") == [r["text"] for r in lines]
    for r in lines:
        assert set(r) == {"box", "text", "confidence", "words"}
        assert len(r["box"]) == 4 and all(isinstance(v, int) for v in r["box"])
        assert [w["text"] for w in r["words"]] == r["text"].split()
        for w in r["words"]:
            assert set(w) == {"text", "box", "confidence"} and len(w["box"]) == 4


def test_page_bad_input(capsys, tmp_path, page_file):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image")
    path, _ = page_file
    code, out = _run(capsys, ["--layout", "page", "--json", str(bad), str(path)])
    assert code == 1
    assert "error" in out[0] and "lines" in out[1]
