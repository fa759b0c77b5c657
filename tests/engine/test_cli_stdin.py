"""``htr-desktop recognize -`` reads one image or PDF from standard input, named <stdin>."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import cv2
import pytest
from PIL import Image

from htr_desktop import cli
from tests.conftest import render_text


def run_cli(*args: str, data: bytes | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "htr_desktop", "recognize", *args], input=data,
                          capture_output=True, timeout=240, **kwargs)


def test_an_image_on_stdin_reads_as_the_same_file(tmp_path):
    path = tmp_path / "line.png"
    cv2.imwrite(str(path), render_text("hello world"))
    out = run_cli("--json", "--layout", "line", "-", str(path), data=path.read_bytes())
    assert out.returncode == 0, out.stderr
    piped, filed = (json.loads(line) for line in out.stdout.decode().splitlines())
    assert piped["path"] == "<stdin>" and filed["path"] == str(path)
    assert piped["text"] and piped["text"] == filed["text"] and piped["lines"] == filed["lines"]


def test_a_pdf_on_stdin_gives_its_pages_and_stdin_xml_files(tmp_path):
    pages = [Image.fromarray(render_text(t, height=90)) for t in ("first page", "second page")]
    pdf = tmp_path / "two.pdf"
    pages[0].save(pdf, "PDF", resolution=100.0, save_all=True, append_images=pages[1:])
    out = run_cli("--json", "--layout", "line", "--format", "page", "--out", str(tmp_path / "xml"), "-",
                  data=pdf.read_bytes())
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["path"] == "<stdin>" and [p["page"] for p in result["pages"]] == [1, 2]
    assert result["written"] == [str(tmp_path / "xml" / f"stdin-p{n}.xml") for n in (1, 2)]
    assert all(os.path.getsize(f) > 0 for f in result["written"])


def _terminal() -> dict:
    primary, secondary = pty.openpty()
    return {"stdin": secondary, "pass_fds": (primary,)}


@pytest.mark.parametrize(("how", "message"), [
    ("empty", "standard input is empty (no image was piped in)"),
    ("garbage", "not a readable image (corrupt, truncated or unsupported format)"),
    ("terminal", "standard input is a terminal: pipe an image into it"),
    ("closed", "standard input is closed"),
])
def test_no_image_on_stdin_is_one_clear_line(how, message):
    kwargs: dict = {"data": b""} if how == "empty" else {"data": b"\x00garbage, not a picture" * 40}
    if how == "terminal":
        kwargs = _terminal()
    elif how == "closed":
        kwargs = {"stdin": subprocess.DEVNULL, "preexec_fn": lambda: os.close(0)}
    out = run_cli("-", **kwargs)
    assert out.returncode == 1
    assert out.stdout == b""
    lines = out.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"<stdin>: error: {message}"), lines


def test_stdin_only_once_and_in_the_help(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.run_recognize(["-", "-"])
    assert stop.value.code == 2
    assert "- (standard input) can be given only once" in capsys.readouterr().err
    assert "- reads one image or PDF from standard input" in " ".join(cli._parser().format_help().split())
