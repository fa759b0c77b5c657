"""Ctrl+C (SIGINT to the whole process group, as a terminal sends it) ends the headless commands cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import pytest

from tests.conftest import render_text

WORDS = ["hello", "world", "minute", "letter", "garden"]


def ctrl_c(args: list[str], after_lines: int, group: bool = True, again: float | None = None,
           ) -> tuple[int, list[str], str]:
    """Start ``htr-desktop ARGS`` in its own process group, Ctrl+C it once it printed ``after_lines`` lines (and
    once more ``again`` seconds later)."""
    # group: SIGINT to the whole group, as a terminal sends it; else to the command's process only (kill -INT)
    proc = subprocess.Popen([sys.executable, "-m", "htr_desktop", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, process_group=0)
    hung = threading.Timer(600, os.killpg, (proc.pid, signal.SIGKILL))  # a command that never ends fails the test
    hung.start()
    try:
        lines = [proc.stdout.readline() for _ in range(after_lines)]
        (os.killpg if group else os.kill)(proc.pid, signal.SIGINT)
        if again is not None:
            time.sleep(again)
            (os.killpg if group else os.kill)(proc.pid, signal.SIGINT)
        lines += proc.stdout.read().splitlines()  # (not communicate(): it would skip what readline buffered)
        err = proc.stderr.read()
        proc.wait(120)
    finally:
        hung.cancel()
        if proc.poll() is None:
            proc.kill()
    assert group_ends(proc.pid), "worker processes outlived the command"
    return proc.returncode, lines, err


def group_ends(group: int) -> bool:
    """Whether every process of the group ends (multiprocessing's helper process needs a moment after its parent)."""
    for _ in range(300):
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("workers", [2, 1])
@pytest.mark.parametrize("group", [True, False], ids=["terminal", "kill"])
def test_ctrl_c_stops_recognize_with_one_line_and_complete_outputs(tmp_path, group, workers):
    encoded = [cv2.imencode(".png", render_text(w))[1].tobytes() for w in WORDS]
    paths = []
    for i in range(300):
        paths.append(tmp_path / f"in{i:03d}.png")
        paths[-1].write_bytes(encoded[i % len(encoded)])
    out = tmp_path / "xml"
    code, lines, err = ctrl_c(["recognize", "--json", "--layout", "line", "--workers", str(workers), "--format", "page",
                               "--out", str(out), *map(str, paths)], after_lines=1, group=group)
    assert code == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    rows = [json.loads(line) for line in lines]  # no line cut in two
    order = [list(map(str, paths)).index(r["path"]) for r in rows]
    assert 1 <= len(rows) < 300 and order == sorted(set(order))  # each input once, in order (perhaps with gaps)
    gaps = "" if order == list(range(len(rows))) else ", not all of the first ones: the printed paths say which"
    assert [ln for ln in err.splitlines() if ln.strip()] == [f"htr-desktop recognize: interrupted; {len(lines)} of "
                                                             f"300 inputs done{gaps}"]
    for row in rows:
        (written,) = row["written"]
        assert ET.parse(written).getroot().tag.endswith("PcGts")
    files = sorted(out.iterdir())
    assert all(f.suffix == ".xml" for f in files)  # no half-written file left behind
    for f in files:
        ET.parse(f)  # complete
    # Every input finished before the command ended is printed and counted: none written but left unsaid.
    assert sorted(files) == sorted(Path(r["written"][0]) for r in rows)


def test_a_second_ctrl_c_stops_the_inputs_still_running_and_tells_the_finished_ones(tmp_path):
    """Ctrl+C, and again while the command waits for a long input the worker reads: the second stops it at once;
    the inputs finished meanwhile are printed and counted, and every file written is told."""
    from PIL import Image

    from model.pdf import MAX_PAGES

    def tiff(path: Path, lines: int, words: int = 1) -> Path:
        texts = [" ".join(WORDS[(i + j) % len(WORDS)] for j in range(words)) for i in range(lines)]
        frames = [Image.fromarray(render_text(text)) for text in texts]
        frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_deflate")
        return path

    first = tmp_path / "a.png"
    cv2.imwrite(str(first), render_text("hello"))
    # The worker reads a.png, then b.tiff (many seconds: as many pages as a TIFF may have, of 30-word lines; a longer
    # TIFF would be refused at once); meanwhile this process reads d.tiff, then c.tiff.
    paths = [first, tiff(tmp_path / "b.tiff", MAX_PAGES, words=30), tiff(tmp_path / "c.tiff", 20),
             tiff(tmp_path / "d.tiff", 20)]
    out = tmp_path / "xml"
    started = time.monotonic()
    code, lines, err = ctrl_c(["recognize", "--json", "--layout", "line", "--workers", "2", "--format", "alto",
                               "--out", str(out), *map(str, paths)], after_lines=1, again=0.5)
    assert code == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    rows = [json.loads(line) for line in lines]
    printed = [r["path"] for r in rows]
    assert printed in ([str(paths[0]), str(paths[3])], [str(paths[0]), str(paths[2]), str(paths[3])])
    assert [ln for ln in err.splitlines() if ln.strip()] == [
        f"htr-desktop recognize: interrupted; {len(rows)} of 4 inputs done, not all of the first ones: the printed "
        "paths say which; Ctrl+C again stopped 1 still running"]
    files = sorted(out.iterdir())
    assert all(f.suffix == ".xml" for f in files)  # no half-written file left behind
    assert files == sorted(Path(f) for r in rows for f in r["written"])  # every file written is told
    assert time.monotonic() - started < 60  # b.tiff was not read to its end


def test_ctrl_c_stops_serve_with_one_line():
    code, lines, err = ctrl_c(["serve", "--workers", "2"], after_lines=1)
    assert code == 130 and "url" in json.loads(lines[0])
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip() == "htr-desktop serve: interrupted; the server stopped"


def test_a_ctrl_c_held_from_the_start_is_reported_once_the_command_runs(tmp_path):
    """The packaged executable blocks Ctrl+C until the entry point (packaging/rthook_sigint.py): one sent while it
    is blocked (here from before the interpreter starts) still ends ``recognize`` with one line and code 130."""
    path = tmp_path / "in.png"
    cv2.imwrite(str(path), render_text("hello"))
    proc = subprocess.Popen([sys.executable, "-m", "htr_desktop", "recognize", "--json", *[str(path)] * 50],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, process_group=0,
                            preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}))
    os.killpg(proc.pid, signal.SIGINT)  # pending until htr_desktop.__main__ unblocks it
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and out == "", err
    assert err.strip() == "htr-desktop recognize: interrupted; 0 of 50 inputs done"  # (held until the model loaded)


@pytest.mark.parametrize("delay", [0.1, 0.2, 0.3, 0.4, 0.6])
def test_a_ctrl_c_while_recognize_starts_ends_it_with_one_line(tmp_path, delay):
    """Ctrl+C while the command imports its modules and loads the model (numpy's and LiteRT's compiled start-up
    turned one into their ImportError or SystemError with a traceback, or lost it): held until the model is loaded,
    then one line and code 130."""
    path = tmp_path / "in.png"
    cv2.imwrite(str(path), render_text("hello"))
    proc = subprocess.Popen([sys.executable, "-m", "htr_desktop", "recognize", "--json", *[str(path)] * 2000],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, process_group=0)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert group_ends(proc.pid)
    assert proc.returncode == 130, (proc.returncode, err[-500:])
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "interrupted" in err
    assert all(json.loads(line) for line in out.splitlines())  # whole results only
    assert len(out.splitlines()) < 2000


def _import_failing(cause: BaseException):
    def run_recognize(argv):
        try:
            raise cause
        except BaseException as exc:  # as pybind11 does when its module's initialisation raises
            raise ImportError("initialization failed") from exc
    return run_recognize


def test_ctrl_c_while_a_compiled_module_initialises_is_an_interruption(monkeypatch, capsys):
    """LiteRT's module turns a Ctrl+C during its import into ImportError('initialization failed'): still 130 and
    one line, no traceback."""
    import htr_desktop.cli
    from htr_desktop.__main__ import main

    monkeypatch.setattr(htr_desktop.cli, "run_recognize", _import_failing(KeyboardInterrupt()))
    assert main(["recognize", "a.png"]) == 130
    assert capsys.readouterr().err.strip() == "htr-desktop recognize: interrupted"
    monkeypatch.setattr(htr_desktop.cli, "run_recognize", _import_failing(OSError("libfoo.so: cannot open")))
    with pytest.raises(ImportError):  # a real import failure is not taken for one
        main(["recognize", "a.png"])
