"""Like for like against Tesseract on one core, and where htr-desktop's time goes (stage profile).

Usage: python -m benchmarks.engine_speed [--lines 100] [--repeats 3] [--cpu 0] [--exe dist/htr-desktop/htr-desktop]

Both engines read the same held-back IAM lines (groups d05 g04 m03 n03 p01, first N by name) from the same
files, pinned to one core (this process and its children: ``taskset -c CPU``), one thread each:
- one process over all the lines, start-up included: ``tesseract list.txt stdout --psm 7`` against
  ``htr-desktop recognize --layout line --json <files>`` (or the packaged executable with ``--exe``);
  the per-line time without start-up is (time for N lines - time for 1 line) / (N - 1);
- in process through a binding: ``tesserocr`` (``SetImageFile`` + ``GetUTF8Text``) against
  ``Recognizer`` (``load_image`` + ``recognize``); start-up = creating the engine (imports excluded).
Writes the "engine" and "stages" sections of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"  # Tesseract's OpenMP: one thread (read when the library loads)

from benchmarks.data import HELD_BACK_GROUPS, held_back_lines  # noqa: E402
from benchmarks.report import load_note, machine, write_section  # noqa: E402

TESSDATA = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata")


def children_cpu() -> float:
    """CPU seconds (user + system) used so far by this process's finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, object, float]:
    """Median wall time of ``fn()`` over ``repeats`` runs, the last result, and the median CPU seconds of the
    child processes it ran (user + system: what other jobs on the machine barely change)."""
    runs, cpu, out = [], [], None
    for _ in range(repeats):
        c, t = children_cpu(), time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - t)
        cpu.append(children_cpu() - c)
    return statistics.median(runs), out, statistics.median(cpu)


def run(cmd: list[str]) -> str:
    """Run a command pinned as this process is; its stdout (fails loudly)."""
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    if out.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({out.returncode}): {out.stderr[-500:]}")
    return out.stdout


def tesseract_cli(paths: list[Path], tmp: Path) -> list[str]:
    """Tesseract over a list file in one process: one text per line."""
    listing = tmp / f"list{len(paths)}.txt"
    listing.write_text("".join(f"{p}\n" for p in paths))
    pages = run(["tesseract", str(listing), "stdout", "--psm", "7", "-l", "eng"]).split("\f")
    return [p.strip() for p in pages[: len(paths)]]


def ours_cli(exe: list[str], paths: list[Path]) -> list[str]:
    """``htr-desktop recognize --layout line --json`` in one process: one text per line."""
    out = run([*exe, "recognize", "--layout", "line", "--json", *map(str, paths)])
    return [json.loads(line).get("text", "") for line in out.splitlines()]


def tesserocr_engine() -> Callable[[Path], str] | None:
    """An in-process Tesseract (tesserocr) reading one line file, or None if tesserocr is missing."""
    try:
        from tesserocr import PSM, PyTessBaseAPI
    except ImportError:
        return None
    path = next((p for p in TESSDATA if Path(p, "eng.traineddata").is_file()), None)
    api = PyTessBaseAPI(path=path, lang="eng", psm=PSM.SINGLE_LINE) if path else PyTessBaseAPI(psm=PSM.SINGLE_LINE)

    def read(p: Path) -> str:
        api.SetImageFile(str(p))
        return api.GetUTF8Text().strip()

    return read


def ours_engine() -> Callable[[Path], str]:
    """An in-process htr-desktop recognizer (bundled model, its default decoder, one thread)."""
    from model.imageio import load_image
    from model.recognizer import Recognizer

    rec = Recognizer.load(threads=1)
    return lambda p: rec.recognize([load_image(p)])[0].text


def in_process(make: Callable[[], Callable[[Path], str]], paths: list[Path]) -> tuple[float, float, list[str]]:
    """(start-up s, lines s, texts) for an engine created by ``make``."""
    t = time.perf_counter()
    engine = make()
    start = time.perf_counter() - t
    t = time.perf_counter()
    texts = [engine(p) for p in paths]
    return start, time.perf_counter() - t, texts


STAGES = ("read + decode image", "preprocess", "network", "CTC decode", "word boxes (alignment)",
          "recognize() total", "line result (`crop_line`)")


def stage_profile(paths: list[Path], repeats: int) -> dict[str, float]:
    """Median ms per line of each stage of ``Recognizer.recognize`` (one thread), the whole call, and the line
    result the CLI builds for ``--layout line``; "(cpu)" keys: the same in this process's CPU time."""
    from model.alignment import aligned_word_boxes
    from model.imageio import load_image
    from model.page import crop_line
    from model.preprocess import pad_batch, prepare_line_parts
    from model.recognizer import Recognizer, bucket_width

    rec = Recognizer.load(threads=1)
    spec = rec.info.input_spec
    for p in paths[:10]:
        rec.recognize([load_image(p)])  # warm the interpreter pool
    wall: dict[str, list[float]] = {k: [] for k in STAGES}
    cpu: dict[str, list[float]] = {k: [] for k in STAGES}
    for _ in range(repeats):
        for p in paths:
            marks = [(time.perf_counter(), time.process_time())]
            image = load_image(p)
            marks.append((time.perf_counter(), time.process_time()))
            parts = prepare_line_parts(image, spec)
            tensor = parts.tensor  # resized when first asked for: part of the preprocessing
            marks.append((time.perf_counter(), time.process_time()))
            width = bucket_width(tensor.shape[1])
            logits = rec.logits(pad_batch([tensor], spec, width=width))
            marks.append((time.perf_counter(), time.process_time()))
            per_frame = max(1, round(width / logits.shape[1]))
            decoded = rec.decode(logits[0, : -(-tensor.shape[1] // per_frame) + 2])
            marks.append((time.perf_counter(), time.process_time()))
            aligned_word_boxes([(w.start, w.end) for w in decoded.words], parts, per_frame)
            marks.append((time.perf_counter(), time.process_time()))
            (pred,) = rec.recognize([image])
            marks.append((time.perf_counter(), time.process_time()))
            crop_line(pred, image)
            marks.append((time.perf_counter(), time.process_time()))
            for key, a, b in zip(STAGES, marks, marks[1:]):
                wall[key].append(1000 * (b[0] - a[0]))
                cpu[key].append(1000 * (b[1] - a[1]))
    return ({k: statistics.median(v) for k, v in wall.items()}
            | {k + " (mean)": statistics.fmean(v) for k, v in wall.items()}
            | {k + " (cpu)": statistics.median(v) for k, v in cpu.items()})


def page_segmentation(repeats: int) -> tuple[float, int] | None:
    """Median seconds to segment a composed 200-word page of held-back IAM lines, and its line count."""
    try:
        from benchmarks.data import iam_gt
        from benchmarks.page_speed import words_page
        from model.page import clear_cache, segment_page
        from training.pages import iam_source
    except ImportError:
        return None
    gt = iam_gt()
    if gt is None:
        return None
    image, _words, n_lines = words_page(iam_source(gt, list(HELD_BACK_GROUPS)), 200)
    runs = []
    for _ in range(repeats):
        clear_cache()
        t = time.perf_counter()
        segment_page(image)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), n_lines


def cpu_table(cpu_rows: list[tuple[str, float, float]], n: int) -> str:
    """The one-process rows again in CPU seconds (user + system), with the ratio to Tesseract's."""
    if len(cpu_rows) < 2:
        return ""
    tess = cpu_rows[0]
    lines = [f"| {name} | {one:.2f} | {total:.2f} | {tess[2] / total:.2f}x |" for name, one, total in cpu_rows]
    return (f"The same one-process runs in CPU time (user + system of the process, median), which other jobs on the "
            f"machine change far less than wall time:\n\n| engine | CPU s for 1 line | CPU s for {n} lines | "
            "speed vs Tesseract |\n|---|---|---|---|\n" + "\n".join(lines) + "\n\n")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--lines", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--cpu", type=int, default=0, help="the one core everything runs on")
    p.add_argument("--exe", help="the packaged executable instead of `python -m htr_desktop`")
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args()
    os.sched_setaffinity(0, {args.cpu})  # this process and every child: one core
    from training.metrics import score

    samples = held_back_lines(args.lines)
    paths = [s[0] for s in samples]
    truths = [s[1] for s in samples]
    exe = [args.exe] if args.exe else [sys.executable, "-m", "htr_desktop"]
    ours_name = "packaged `htr-desktop`" if args.exe else "`python -m htr_desktop`"
    before = load_note()
    rows = []  # (engine, mode, start-up s, total s for N lines, ms/line without start-up, texts)
    cpu_rows = []  # (engine, CPU s for 1 line, CPU s for N lines)
    with tempfile.TemporaryDirectory() as tmp:
        if shutil.which("tesseract"):
            version = run(["tesseract", "--version"]).splitlines()[0]
            one, _, cpu_one = timed(lambda: tesseract_cli(paths[:1], Path(tmp)), args.repeats)
            total, texts, cpu_total = timed(lambda: tesseract_cli(paths, Path(tmp)), args.repeats)
            per = (total - one) / (len(paths) - 1)
            rows.append((f"{version} CLI, list file", "one process", one - per, total, 1000 * per, texts))
            cpu_rows.append((f"{version} CLI, list file", cpu_one, cpu_total))
        one, _, cpu_one = timed(lambda: ours_cli(exe, paths[:1]), args.repeats)
        total, texts, cpu_total = timed(lambda: ours_cli(exe, paths), args.repeats)
        per = (total - one) / (len(paths) - 1)
        rows.append((f"htr-desktop {ours_name} recognize --layout line", "one process", one - per, total,
                     1000 * per, texts))
        cpu_rows.append((f"htr-desktop {ours_name} recognize --layout line", cpu_one, cpu_total))
        tess_version = ""
        if importlib.util.find_spec("tesserocr") is not None:
            import tesserocr

            tess_version = tesserocr.tesseract_version().split()[1]
        for name, make in ((f"tesserocr (Tesseract {tess_version} in process)", tesserocr_engine),
                           ("htr-desktop Recognizer (in process)", ours_engine)):
            if make is tesserocr_engine and importlib.util.find_spec("tesserocr") is None:
                continue
            runs = [in_process(make, paths) for _ in range(args.repeats)]
            start = statistics.median(r[0] for r in runs)
            lines = statistics.median(r[1] for r in runs)
            rows.append((name, "binding", start, start + lines, 1000 * lines / len(paths), runs[-1][2]))
    stages = stage_profile(paths, max(1, args.repeats - 1))
    seg = page_segmentation(args.repeats)
    after = load_note()

    from model.bundle import bundled_model_dir, read_info

    info = read_info(bundled_model_dir())
    lines = []
    for mode in ("one process", "binding"):
        tess = next((r for r in rows if r[1] == mode and "esser" in r[0]), None)
        for name, m, start, total, per, texts in (r for r in rows if r[1] == mode):
            sc = score(truths, texts)
            vs = "" if tess is None or tess[0] == name else f"{tess[3] / total:.2f}x / {tess[4] / per:.2f}x"
            lines.append(f"| {name} | {m} | {start:.2f} | {total:.2f} | {per:.1f} | {sc.cer:.1%} | {sc.wer:.1%} | "
                         f"{vs or '1.00x'} |")
    command = "python -m benchmarks.engine_speed" + (f" --exe {args.exe}" if args.exe else "")
    head = (f"| engine | how | start-up s | s for {len(paths)} lines (with start-up) | ms / line (without) | CER | WER "
            "| speed vs Tesseract (with / without start-up) |")
    body = f"""## Like for like with Tesseract (`{command}`)

{machine()}; model {info.version} ({info.decoder.name} decoder); one core (CPU {args.cpu}, `taskset`), one thread each,
the same {len(paths)} held-back IAM lines ({", ".join(HELD_BACK_GROUPS)}, first by name), read from the same files.
Median of {args.repeats} runs. Start: {before}; end: {after}.

{head}
|---|---|---|---|---|---|---|---|
{chr(10).join(lines)}

{cpu_table(cpu_rows, len(paths))}
"one process": one command over all the files (`tesseract list.txt stdout --psm 7 -l eng` with `OMP_THREAD_LIMIT=1`);
start-up = time for 1 line - time per line. "binding": the engine created in this process (tesserocr's
`PyTessBaseAPI(psm=SINGLE_LINE)`, htr-desktop's `Recognizer.load(threads=1)`), start-up = creating it.
"""
    stage_rows = "\n".join(f"| {k} | {stages[k]:.2f} | {stages[k + ' (mean)']:.2f} | {stages[k + ' (cpu)']:.2f} |"
                           for k in STAGES)
    seg_row = (f"\nPage segmentation of a composed 200-word page ({seg[1]} lines, held-back IAM lines): "
               f"{seg[0] * 1000:.0f} ms (median of {args.repeats}).\n") if seg else ""
    stages_body = f"""## Where the time goes (stage profile, `python -m benchmarks.engine_speed`)

Per line, in process, one core, one thread, model {info.version} ({info.decoder.name} decoder); the same
{len(paths)} lines. {after}.

| stage | median ms / line | mean ms / line | median CPU ms / line |
|---|---|---|---|
{stage_rows}
{seg_row}"""
    print(body)
    print(stages_body)
    if not args.no_write:
        write_section("engine_bundle" if args.exe else "engine", body)
        if not args.exe:
            write_section("stages", stages_body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
