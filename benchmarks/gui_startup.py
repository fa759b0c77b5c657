"""GUI timings: process start -> window shown; opening an image -> first recognized text (cold and warm).

Run: ``nice -n 15 .venv/bin/python -m benchmarks.gui_startup [--runs 5] [--platform offscreen|xcb]``
(xcb needs a display, e.g. ``xvfb-run -a``). Writes the "gui" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from benchmarks.report import machine, write_section
from tests.conftest import render_text


def _env(tmp: Path, platform: str, bench_file: Path) -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": platform, "HTR_DESKTOP_BENCH": str(bench_file),
            "HTR_DESKTOP_DATA_DIR": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "config"),
            "TF_CPP_MIN_LOG_LEVEL": "2"}


def run_process(args: list[str], platform: str) -> dict[str, float]:
    """Start ``python -m htr_desktop args`` and return its event times relative to the process start."""
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        bench = tmp / "bench.jsonl"
        t0 = time.time()
        subprocess.run([sys.executable, "-m", "htr_desktop", *args], env=_env(tmp, platform, bench), check=True,
                       timeout=120, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        events = {}
        for line in bench.read_text().splitlines():
            e = json.loads(line)
            events.setdefault(e["event"], e["time"] - t0)
        return events


def baseline_time(platform: str) -> float:
    """Seconds for a bare ``python -c "import PySide6.QtWidgets"`` under the same load (the floor for any Qt app)."""
    env = {**os.environ, "QT_QPA_PLATFORM": platform}
    t0 = time.time()
    subprocess.run([sys.executable, "-c", "import PySide6.QtWidgets"], env=env, check=True, timeout=120)
    return time.time() - t0


def warm_open_times(image: Path, runs: int) -> list[float]:
    """In one process with the model already loaded: open_paths -> first recognized text, in seconds."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    from htr_desktop.app import model_loader
    from htr_desktop.main_window import MainWindow
    from htr_desktop.settings import Settings

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp_dir:
        settings = Settings(QSettings(str(Path(tmp_dir) / "s.ini"), QSettings.Format.IniFormat))
        window = MainWindow(settings, model_loader(settings), Path(tmp_dir) / "session")
        window.show()
        window.start([])
        while window.service.info is None:
            app.processEvents()
            time.sleep(0.005)
        times = []
        for _ in range(runs):
            got: list[float] = []
            window.workspace.recognized.connect(lambda _p, got=got: got.append(time.perf_counter()))
            start = time.perf_counter()
            window.open_paths([str(image)])
            while not got:
                QCoreApplication.processEvents()
                time.sleep(0.001)
            times.append(got[0] - start)
            window.workspace.recognized.disconnect()
            window.workspace.close_all()
        window.close()
    return times


def main() -> None:
    """Measure and write the section."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--platform", default="offscreen")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        image = Path(tmp_dir) / "line.png"
        cv2.imwrite(str(image), render_text("handwriting to read"))
        shown, painted, baseline = [], [], []
        for _ in range(args.runs):  # interleaved, so both see the same background load
            events = run_process([], args.platform)
            shown.append(events["shown"])
            painted.append(events.get("painted", float("nan")))
            baseline.append(baseline_time(args.platform))
        cold = [run_process([str(image)], args.platform) for _ in range(args.runs)]
        cold_open = [e["first_text"] - e["open_started"] for e in cold]
        cold_total = [e["first_text"] for e in cold]
        warm = warm_open_times(image, args.runs)
    med = statistics.median

    def row(name: str, values: list[float], target: str, digits: int = 2) -> str:
        cells = [f"{f(values):.{digits}f} s" for f in (med, min, max)]
        return f"| {name} | {' | '.join(cells)} | {target} |"

    table = "\n".join([
        "| measure | median | min | max | target |", "|---|---|---|---|---|",
        row("process start → window shown", shown, "–"),
        row("process start → the window's first paint (on screen with `xcb`)", painted, "≤ 1 s"),
        row("baseline: `python -c \"import PySide6.QtWidgets\"` (same load, interleaved)", baseline, "–"),
        row("open image → first recognized text (model already loaded, the usual case)", warm, "≤ 1.5 s", 3),
        row("open image → first text, image given on the command line (includes the lazy model load)", cold_open,
            "≤ 1.5 s"),
        row("process start → first text, image on the command line", cold_total, "–"),
    ])
    load = os.getloadavg()[0]
    above = med(shown) - med(baseline)
    body = f"""## Desktop app: start-up and first text

`python -m benchmarks.gui_startup --runs {args.runs} --platform {args.platform}` on {machine()}.
Each start is a fresh `python -m htr_desktop` process with an empty session, run under `nice` while other jobs
may share the 2 cores (load average {load:.1f} at the end of the run); the bare PySide6 import, measured
interleaved, is the floor under the same load.

{table}

Window shown {above:.2f} s after the bare PySide6 import (median): creating the QApplication and the window, Qt's
enum/type set-up and the app's own Qt modules. numpy, OpenCV, qimage2ndarray and `model.*` are not imported
before the window is shown (`tests/gui/test_startup_imports.py` checks it): they load in the recognition thread
with the model, or when the first image is opened.

The window is shown before the model loads: the model loads once, in the recognition thread, right after the
first event-loop turn; an image opened meanwhile waits for it. Image: one rendered line ({args.platform} Qt platform).
"""
    print(body)
    if not args.no_write:
        write_section("gui", body)


if __name__ == "__main__":
    main()
