"""Several pages on 2 cores against 1: throughput of the CLI and the window's batch, next to one page's latency.

Usage: python -m benchmarks.parallel_pages [--pages 10] [--repeats 3] [--no-write]
The pages are composed from the held-back IAM lines (``benchmarks.page_speed.words_page``, ~200 words each, seeds
0..N-1; seed 0 is the page of ``benchmarks.parallel``) and saved as PNG files. "1 core" pins this process and its
workers to CPU 0, "2 cores" to CPUs 0 and 1, as in ``benchmarks.parallel``. Throughput rows read all the pages
(``recognize --layout auto`` with its start-up; the window's ``export.batch`` on a loaded pool); latency rows read
one page (the CLI with its start-up; the window's ``read_whole`` on a loaded pool). Writes the "parallel-pages"
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from functools import partial
from pathlib import Path

from benchmarks.data import HELD_BACK_GROUPS, iam_gt
from benchmarks.parallel import cli, machine_busy, median_s, own_cpu, two_core_args, window_rows
from benchmarks.report import load_note, machine, publish


def compose(folder: Path, count: int) -> tuple[list[Path], int, int]:
    """``count`` ~200-word pages as PNG files in ``folder``: their paths, total words and lines."""
    import cv2

    from benchmarks.page_speed import words_page
    from training.pages import iam_source

    gt = iam_gt()
    if gt is None:
        raise SystemExit("IAM gt_test.txt not found: set HTR_IAM_GT (see benchmarks/data.py)")
    source = iam_source(gt, list(HELD_BACK_GROUPS))
    paths, words, lines = [], 0, 0
    for seed in range(count):
        image, n_words, n_lines = words_page(source, 200, seed=seed)
        path = folder / f"page-{seed:02d}.png"
        cv2.imwrite(str(path), image)
        paths.append(path)
        words, lines = words + n_words, lines + n_lines
    return paths, words, lines


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--pages", type=int, default=10)
    p.add_argument("--few", type=int, default=3, help="also read this many pages (a small batch)")
    args = two_core_args(p)
    from model.imageio import load_pages

    busy, own = machine_busy(), own_cpu()
    rows: dict[str, tuple[str, dict[int, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths, n_words, n_lines = compose(Path(tmp), args.pages)
        bytecode = str(Path(tmp) / "bytecode")
        read = cli(paths, 2, bytecode, layout="auto")  # also compiles and caches the modules' bytecode
        if {json.loads(line)["layout"] for line in read.splitlines()} != {"page"}:
            raise SystemExit("not every composed page was read as a page")
        sets = {f"CLI, {len(paths)} page files (`--layout auto`), start-up included (s)": paths,
                f"CLI, {args.few} page files, start-up included (s)": paths[:args.few],
                "CLI, 1 page file, start-up included (s)": paths[:1]}
        runs: dict[str, dict[int, list[float]]] = {name: {1: [], 2: []} for name in sets}
        for _ in range(args.repeats):  # 1 and 2 cores in turn: a change of load hits both alike
            for cores in (1, 2):
                os.sched_setaffinity(0, set(range(cores)))  # inherited by the CLI's processes
                for name, files in sets.items():  # workers as the command chooses them (none for one file)
                    runs[name][cores].append(median_s(partial(cli, files, 0, bytecode, layout="auto"), 1))
        for name, files in sets.items():
            rows[name] = ("throughput" if len(files) > 1 else "latency",
                          {c: statistics.median(t) for c, t in runs[name].items()})
        window_batch = f"window batch, {len(paths)} page files (layout auto), model loaded (s)"
        window_few = f"window batch, {args.few} page files, model loaded (s)"
        window_page = "window page, 1 page, segment + recognize, model loaded (s)"
        window, version = window_rows({window_batch: paths, window_few: paths[:args.few]}, window_page,
                                      load_pages(paths[0])[0], args.repeats, tmp)
        for name, t in window.items():
            rows[name] = ("latency" if name == window_page else "throughput", t)
    os.sched_setaffinity(0, set(range(os.cpu_count() or 2)))
    busy, own = machine_busy() - busy, own_cpu() - own
    note = (f"{load_note()}; other processes used {max(0.0, busy - own):.0f} of the {busy:.0f} CPU-seconds the "
            "machine was busy")

    table = "\n".join(f"| {name} | {kind} | {t[1]:.2f} | {t[2]:.2f} | {t[1] / t[2]:.2f}x |"
                      for name, (kind, t) in rows.items())
    command = f"python -m benchmarks.parallel_pages --pages {args.pages} --few {args.few} --repeats {args.repeats}"
    body = f"""## Several pages: throughput against one page's latency, 2 cores against 1 (`{command}`)

{machine()}; model {version}; median of {args.repeats} runs (window page: {args.repeats + 2}); {note}.
{len(paths)} pages composed from the held-back IAM lines ({n_words} words in {n_lines} lines; the first is the page
of the section above), saved as PNG. **Throughput** rows read several: a worker process reads a whole page
(segmentation and its lines), the next page going to whichever worker is free (the CLI with its default workers: one
per core for 2 or more page files); in the window's batch the pages left once each worker has had its share (fewer
than the workers: 1 of 3) are segmented in the window's process meanwhile and their lines read by all the workers.
**Latency** rows read one page: the CLI reads a single input in its own process, no worker started; the window
segments the page in its own process, then spreads the page's lines over its workers. 1 core = everything pinned
to CPU 0, 2 cores = CPUs 0 and 1; the CLI runs with its bytecode cached.

| workload | measures | 1 core | 2 cores | speed-up |
|---|---|---|---|---|
{table}
"""
    return publish("parallel-pages", body, not args.no_write)


if __name__ == "__main__":
    sys.exit(main())
