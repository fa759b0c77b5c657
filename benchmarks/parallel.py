"""Every core: throughput on 2 cores against 1 for the CLI over many files, the window's batch and its page.

Usage: python -m benchmarks.parallel [--files 100] [--repeats 3] [--no-write]
The same held-back IAM lines (benchmarks.data) and a composed 200-word page of them. "1 core" pins this process
and its worker processes to CPU 0 (``taskset -c 0``), "2 cores" to CPUs 0 and 1. The CLI includes its start-up
(with its modules' bytecode cached, as in an installed or packaged copy, even if PYTHONDONTWRITEBYTECODE is set);
the window's batch (``export.batch``) and page recognition (``read_whole`` on a ``ChunkedRecognizer``) run on a
worker pool that is already loaded, as in the window. Writes the "parallel" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.data import HELD_BACK_GROUPS, held_back_lines, iam_gt
from benchmarks.report import load_note, machine, publish


def median_s(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time in seconds."""
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def machine_busy() -> float:
    """CPU-seconds the whole machine has been busy (``/proc/stat``: all but idle and I/O wait)."""
    with open("/proc/stat") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    """CPU-seconds of this process and its ended children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def cli(paths: list[Path], workers: int, bytecode: str, cpu: list[float] | None = None, layout: str = "line",
        ) -> str:
    """``htr-desktop recognize --json --layout LAYOUT`` over the files with ``workers`` processes (0: the command's
    choice); its CPU s to ``cpu``; returns its output."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPYCACHEPREFIX": bytecode}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    chosen = ["--workers", str(workers)] if workers else []
    out = subprocess.run([sys.executable, "-m", "htr_desktop", "recognize", "--json", "--layout", layout, *chosen,
                          *map(str, paths)], capture_output=True, text=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its workers (it waits for them)
    if cpu is not None:
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if out.returncode != 0 or len(out.stdout.splitlines()) != len(paths):
        raise SystemExit(f"recognize failed: {out.stderr[-500:]}")
    return out.stdout


def window_rows(batches: dict[str, list[Path]], page_name: str, page: np.ndarray, repeats: int, tmp: str,
                ) -> tuple[dict[str, dict[int, float]], str]:
    """The window's way on a loaded pool of 1, then 2 workers: each batch (``export.batch`` to one CSV, ``repeats``
    runs) and one page (``read_whole``, ``repeats + 2`` runs). Median seconds by name and cores; the model version."""
    import cv2

    from htr_desktop.export import batch
    from htr_desktop.reading import ChunkedRecognizer, read_whole
    from model.page import clear_cache
    from model.pool import RecognizerPool

    rows: dict[str, dict[int, float]] = {}
    version = ""
    for cores in (1, 2):
        os.sched_setaffinity(0, set(range(cores)))  # inherited by the pool's processes
        cv2.setNumThreads(cores)  # as OpenCV starts in the window's process on this many cores (it keeps the
        # count it found at its first use: without this the 2-core page would segment with 1 thread)
        with RecognizerPool(workers=cores) as pool:
            pool.start()
            chunked = ChunkedRecognizer(pool)
            read_whole(page, chunked, "page")  # warm up every worker's interpreters
            version = pool.version

            def run_batch(files: list[Path], chunked: ChunkedRecognizer = chunked) -> None:
                out = Path(tempfile.mkdtemp(dir=tmp))  # a fresh folder: batch never overwrites
                if len(batch(files, out, "csv", chunked)["written"]) != 1:
                    raise SystemExit("batch wrote nothing")

            def whole_page(chunked: ChunkedRecognizer = chunked) -> None:
                clear_cache()
                read_whole(page, chunked, "page")

            for name, files in batches.items():
                rows.setdefault(name, {})[cores] = median_s(partial(run_batch, files), repeats)
            rows.setdefault(page_name, {})[cores] = median_s(whole_page, repeats + 2)
    return rows, version


def two_core_args(p: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the arguments, with ``--repeats`` and ``--no-write``; SystemExit unless this process has 2 cores."""
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args()
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("needs 2 cores")
    return args


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--files", type=int, default=100)
    args = two_core_args(p)
    from benchmarks.page_speed import words_page
    from training.pages import iam_source

    busy, own = machine_busy(), own_cpu()
    paths = [s[0] for s in held_back_lines(args.files)]
    page, n_words, n_lines = words_page(iam_source(iam_gt(), list(HELD_BACK_GROUPS)), 200)
    rows: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        bytecode = str(Path(tmp) / "bytecode")
        cli(paths[:4], 2, bytecode)  # compiles and caches the modules' bytecode
        os.sched_setaffinity(0, {0})
        start_up = statistics.median(median_s(partial(cli, paths[:1], 1, bytecode), 1) for _ in range(args.repeats))
        cpu_s: dict[str, dict[int, list[float]]] = {}
        for name, files in ((f"CLI, {len(paths)} line files, start-up included (s)", paths),
                            (f"CLI, the same files 4 times ({4 * len(paths)}), start-up included (s)", paths * 4)):
            runs: dict[int, list[float]] = {1: [], 2: []}
            cpu_s[name] = {1: [], 2: []}
            for _ in range(args.repeats):  # 1 and 2 cores in turn: a change of load hits both alike
                for cores in (1, 2):
                    os.sched_setaffinity(0, set(range(cores)))  # inherited by the CLI's processes
                    runs[cores].append(median_s(partial(cli, files, cores, bytecode, cpu_s[name][cores]), 1))
            rows[name] = {cores: statistics.median(times) for cores, times in runs.items()}
        window, version = window_rows({f"window batch, {len(paths)} files (layout auto), model loaded (s)": paths},
                                      f"window page, {n_words} words in {n_lines} lines, segment + recognize (s)",
                                      page, args.repeats, tmp)
        rows.update(window)
    os.sched_setaffinity(0, set(range(os.cpu_count() or 2)))
    busy, own = machine_busy() - busy, own_cpu() - own
    note = (f"{load_note()}; other processes used {max(0.0, busy - own):.0f} of the {busy:.0f} CPU-seconds the "
            "machine was busy")
    def cpu(name: str) -> str:
        got = cpu_s.get(name)
        return f"{statistics.median(got[1]):.2f} / {statistics.median(got[2]):.2f}" if got else "-"

    table = "\n".join(f"| {name} | {t[1]:.2f} | {t[2]:.2f} | {t[1] / t[2]:.2f}x | {cpu(name)} |"
                      for name, t in rows.items())
    body = f"""## Every core: 2 cores against 1 (`python -m benchmarks.parallel --repeats {args.repeats}`)

{machine()}; model {version}; median of {args.repeats} runs (page: {args.repeats + 2}); {note}.
One recognizer per core (`model/pool.py`: the CLI loads the model once and forks a worker process per further core,
which start at once; the window's pool starts fresh worker processes); 1 core = everything pinned to CPU 0 (the CLI
then reads in its own process), 2 cores = CPUs 0 and 1. The CLI runs with its bytecode cached; over one file it takes
{start_up:.2f} s on 1 core (its start-up, before a second process can start); its CPU time is that of the command and
its workers (user + system). The window's process gets OpenCV's thread count for the cores it runs on. Targets:
>= 1.7x on 2 cores; the page <= 0.5 s on 2 cores.

| workload | 1 core | 2 cores | speed-up | CPU s, 1 / 2 cores |
|---|---|---|---|---|
{table}
"""
    return publish("parallel", body, not args.no_write)


if __name__ == "__main__":
    sys.exit(main())
