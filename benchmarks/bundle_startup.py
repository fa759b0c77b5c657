"""Packaged executable: bundle size and start-up time of ``--version``, ``recognize`` and the GUI start.

Usage: python -m benchmarks.bundle_startup [--exe dist/htr-desktop/htr-desktop] [--runs 7]
Build first with scripts/build.sh. Runs from a scratch folder; writes the "packaged" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from benchmarks.report import load_note, machine, write_section

ROOT = Path(__file__).resolve().parent.parent


def median_s(cmd: list[str], cwd: Path, env: dict[str, str], runs: int) -> float:
    """Median wall time of ``runs`` runs (after one warm-up run), in seconds; fails on a non-zero exit."""
    times = []
    for i in range(runs + 1):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, timeout=300)
        if i:
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def tree_size_mb(path: Path) -> float:
    """Size of a file or folder in MiB, like `du -sh` (symlinks not followed)."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files) / 2**20


def event_times(exe: Path, cwd: Path, env: dict[str, str], runs: int, event: str) -> list[tuple[float, float]]:
    """(wall seconds from process start, the process's CPU seconds by then) to the app's ``event`` (HTR_DESKTOP_BENCH
    marks) of an empty start (new settings and data folders each run), after one warm-up run."""
    times = []
    for i in range(runs + 1):
        run = Path(tempfile.mkdtemp(prefix=f"{event}-", dir=cwd))
        marks = run / "marks.jsonl"
        t = time.time()
        subprocess.run([str(exe)], cwd=cwd, capture_output=True, timeout=300,
                       env={**env, "XDG_CONFIG_HOME": str(run / "config"), "HTR_DESKTOP_DATA_DIR": str(run / "data"),
                            "HTR_DESKTOP_BENCH": str(marks)})
        events = [json.loads(line) for line in marks.read_text().splitlines()] if marks.exists() else []
        mark = next((e for e in events if e["event"] == event), None)
        if i and mark is not None:
            times.append((mark["time"] - t, mark.get("cpu", float("nan"))))
    return times


@contextlib.contextmanager
def xvfb() -> Iterator[str]:
    """A private Xvfb X server's display (":N"), or "" when Xvfb is not installed."""
    if shutil.which("Xvfb") is None:
        yield ""
        return
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as fh:
        number = fh.readline().strip()
    try:
        yield f":{number}" if number else ""
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    """Measure and write the section."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.bundle_startup")
    p.add_argument("--exe", type=Path, default=ROOT / "dist" / "htr-desktop" / "htr-desktop")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--onefile-exe", type=Path, help="also time `--version` of a `scripts/build.sh --onefile` build")
    args = p.parse_args()
    exe = args.exe.resolve()
    bundle = exe.parent if exe.parent.name == "htr-desktop" else exe
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    gui_env = {**env, "QT_QPA_PLATFORM": "offscreen"}
    with tempfile.TemporaryDirectory(prefix="htr-bench-") as tmp:
        cwd = Path(tmp)
        sample = resources.files("resources") / "samples" / "sample-line.png"
        (cwd / "sample-line.png").write_bytes(sample.read_bytes())
        version = subprocess.run([str(exe), "--version"], cwd=cwd, capture_output=True, text=True).stdout.strip()
        rows = {
            "`--version`": median_s([str(exe), "--version"], cwd, env, args.runs),
            "`recognize --json sample-line.png`": median_s([str(exe), "recognize", "--json", "sample-line.png"],
                                                           cwd, env, args.runs),
            "GUI start to window shown and closed (`--smoke-test`, offscreen)": median_s(
                [str(exe), "--smoke-test"], cwd, {**gui_env, "XDG_CONFIG_HOME": tmp}, args.runs),
        }
        shown = event_times(exe, cwd, gui_env, args.runs, "shown")
        if shown:
            rows["process start to window shown (offscreen)"] = statistics.median(w for w, _ in shown)
        with xvfb() as display:
            if display:
                xcb = {**env, "QT_QPA_PLATFORM": "xcb", "DISPLAY": display}
                painted = event_times(exe, cwd, xcb, args.runs, "painted")
                if painted:
                    rows["cold start: process start to the window's first paint on an X server (Xvfb)"] = (
                        statistics.median(w for w, _ in painted))
                    rows["the same, CPU time of the process by its first paint (what other jobs barely change)"] = (
                        statistics.median(c for _, c in painted))
        if args.onefile_exe:
            onefile = args.onefile_exe.resolve()
            rows[f"one-file build ({tree_size_mb(onefile):.0f} MiB) `--version`, unpacks itself at every start"] = (
                median_s([str(onefile), "--version"], cwd, env, args.runs))
    size_mb = tree_size_mb(bundle)
    artifacts = sorted(bundle.parent.glob("htr-desktop-*.tar.zst"))
    artifact = (f"- Download artifact: {tree_size_mb(artifacts[-1]):.0f} MiB (`{artifacts[-1].name}`, made by the same"
                " `scripts/build.sh`; target <= 120 MB)" if artifacts else "- Download artifact: not built")
    body = [
        "## Packaged executable",
        "",
        f"`scripts/build.sh` (PyInstaller one-folder build from a runtime-only venv): {version}; {machine()}.",
        f"Median of {args.runs} runs after one warm-up (warm disk cache), run from a scratch folder; {load_note()}.",
        "",
        f"- Bundle size: {size_mb:.0f} MiB (`{bundle.name}`, {'one folder' if bundle.is_dir() else 'one file'};"
        " target <= 250 MB)",
        artifact,
        "",
        "| command | median start-to-exit |",
        "|---|---|",
        *[f"| {name} | {sec:.2f} s |" for name, sec in rows.items()],
    ]
    write_section("packaged", "\n".join(body))
    print(json.dumps({"size_mb": round(size_mb), **{k: round(v, 3) for k, v in rows.items()}}, indent=1))


if __name__ == "__main__":
    main()
