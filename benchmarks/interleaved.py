"""CPU time of Tesseract and of htr-desktop trees over the same held-back lines, runs interleaved, one core.

Usage: python -m benchmarks.interleaved [--runs 7] [--lines 100] [--cpu 0] [--in-process] TREE [TREE ...]

Each TREE is a checkout (e.g. ``git archive REV | tar -x -C /tmp/before``) whose ``python -m htr_desktop recognize
--layout line --json`` reads the lines from inside that folder; ``tesseract`` stands for ``tesseract list.txt
stdout --psm 7 -l eng`` (``OMP_THREAD_LIMIT=1``). One round runs every entry once, in order, pinned to one core
(``taskset``); the medians of user + system time over the rounds are printed with their ratio to Tesseract's.
Interleaving keeps other work on the machine from favouring one entry. ``--in-process`` times, in each tree's own
process, only ``load_image`` + ``Recognizer.recognize`` of the lines one at a time (bundled model, one thread, loaded
and warmed up on 10 lines first), over the lines 3 times a run: the engine's per-line work without start-up.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.data import held_back_lines
from benchmarks.report import load_note


def cpu_seconds(cmd: list[str], cwd: str | None = None) -> float:
    """User + system seconds of one command (its children included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    env.pop("PYTHONPATH", None)  # each tree imports its own packages
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({done.returncode})")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


#: ``python -c`` program of ``--in-process``: prints the CPU seconds of reading the lines given 3 times.
IN_PROCESS = """
import sys, time
from model.imageio import load_image
from model.recognizer import Recognizer
rec = Recognizer.load(threads=1)
for path in sys.argv[1:11]:
    rec.recognize([load_image(path)])
start = time.process_time()
for _ in range(3):
    for path in sys.argv[1:]:
        rec.recognize([load_image(path)])
print(time.process_time() - start)
"""


def in_process_seconds(tree: str, paths: list[str]) -> float:
    """CPU seconds a tree's ``Recognizer`` takes to read the lines 3 times, in a process of its own."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    env.pop("PYTHONPATH", None)  # each tree imports its own packages
    done = subprocess.run([sys.executable, "-c", IN_PROCESS, *paths], cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: failed ({done.returncode}): {done.stderr[-500:]}")
    return float(done.stdout.split()[-1])


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("trees", nargs="+", help="checkout folders, or `tesseract`")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--lines", type=int, default=100)
    p.add_argument("--cpu", type=int, default=0)
    p.add_argument("--in-process", action="store_true", help="time the recognizer only (no start-up, no Tesseract)")
    args = p.parse_args()
    if args.in_process and "tesseract" in args.trees:
        p.error("--in-process times htr-desktop trees only")
    os.sched_setaffinity(0, {args.cpu})  # this process and every child: one core
    paths = [str(s[0]) for s in held_back_lines(args.lines)]
    times: dict[str, list[float]] = {t: [] for t in args.trees}
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "list.txt"
        listing.write_text("".join(f"{path}\n" for path in paths))
        for _ in range(args.runs):
            for tree in args.trees:
                if args.in_process:
                    times[tree].append(in_process_seconds(tree, paths))
                elif tree == "tesseract":
                    cmd = ["tesseract", str(listing), "stdout", "--psm", "7", "-l", "eng"]
                    times[tree].append(cpu_seconds(cmd))
                else:
                    cmd = [sys.executable, "-m", "htr_desktop", "recognize", "--layout", "line", "--json", *paths]
                    times[tree].append(cpu_seconds(cmd, cwd=tree))
    tess = statistics.median(times["tesseract"]) if "tesseract" in times else None
    print(f"{args.runs} interleaved runs over {len(paths)} held-back lines, CPU {args.cpu}; {load_note()}")
    for tree, runs in times.items():
        median = statistics.median(runs)
        ratio = f"  {tess / median:.2f}x Tesseract" if tess else ""
        per_line = f", {1000 * median / (3 * len(paths)):.2f} ms a line" if args.in_process else ""
        print(f"{tree}: median {median:.2f} s CPU{per_line} ({', '.join(f'{r:.2f}' for r in runs)}){ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
