"""Engine speed: ms per word/line (batch 1 and batched, 1 and 2 threads), CLI start-up, peak memory,
and Tesseract 5 on the same lines (accuracy and time). Writes the "engine" section of docs/benchmarks.md.

Usage: python -m benchmarks.engine_speed [--lines N] [--iam-gt ~/.cache/htr-desktop/iam/IAM/gt_test.txt]
Lines come from the held-back validation groups of the allowed IAM groups (never the reserved ones).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from benchmarks.report import machine, write_section
from model.imageio import load_image
from model.recognizer import Recognizer
from training.config import TrainConfig
from training.datasets import read_iam_gt, split_by_groups
from training.fonts import fetch_fonts
from training.metrics import score
from training.synth import TextSampler, load_fonts, render


def median_ms(fn, items, repeats: int = 3) -> float:
    """Median over repeats of (wall time / item) in ms."""
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(items)
        runs.append(1000 * (time.perf_counter() - t) / len(items))
    return statistics.median(runs)


def per_item(rec: Recognizer):
    return lambda items: [rec.recognize([x]) for x in items]


def batched(rec: Recognizer):
    return lambda items: rec.recognize(items)


def tesseract(paths: list[Path]) -> tuple[list[str], float]:
    """Tesseract 5 (--psm 7, one line) on each file: texts and median ms per line."""
    texts, times = [], []
    for p in paths:
        t = time.perf_counter()
        out = subprocess.run(["tesseract", str(p), "stdout", "--psm", "7", "-l", "eng"],
                             capture_output=True, text=True, env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"})
        times.append(1000 * (time.perf_counter() - t))
        texts.append(out.stdout.strip())
    return texts, statistics.median(times)


def cli_times(sample: Path, repeats: int = 5) -> tuple[float, float, float]:
    """Median wall time of ``htr-desktop --version`` and ``recognize`` on one line; peak RSS (MB) of the latter."""
    import resource

    exe = [sys.executable, "-m", "htr_desktop"]
    ver, rec = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([*exe, "--version"], capture_output=True, check=True)
        ver.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run([*exe, "recognize", "--layout", "line", "--json", str(sample)], capture_output=True, check=True)
        rec.append(time.perf_counter() - t)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return statistics.median(ver), statistics.median(rec), peak


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--lines", type=int, default=60)
    p.add_argument("--words", type=int, default=60)
    p.add_argument("--iam-gt", default="~/.cache/htr-desktop/iam/IAM/gt_test.txt")
    args = p.parse_args()
    val_groups = TrainConfig().val_groups
    samples = split_by_groups(read_iam_gt(Path(args.iam_gt).expanduser()), val_groups)
    random.Random(0).shuffle(samples)
    samples = samples[: args.lines]
    lines = [load_image(s.path) for s in samples]
    fonts = load_fonts(fetch_fonts(("kalam", "caveat", "indie-flower")), Recognizer.load().info.charset)
    sampler = TextSampler(Recognizer.load().info.charset, seed=0)
    rng = random.Random(0)
    words = [render(sampler.word(), fonts[i % len(fonts)], rng) for i in range(args.words)]

    rows = []
    for threads in (1, 2):
        rec = Recognizer.load(threads=threads, decoder="greedy")
        rec.recognize(lines[:2])  # warm up
        rows.append((threads, median_ms(per_item(rec), words), median_ms(batched(rec), words),
                     median_ms(per_item(rec), lines, 1), median_ms(batched(rec), lines, 1)))

    greedy = Recognizer.load(decoder="greedy")
    g_texts = [x.text for x in greedy.recognize(lines)]
    g_ms = median_ms(per_item(greedy), lines, 1)
    rec = Recognizer.load()
    truths = [rec.info.charset.filter(s.text) for s in samples]
    ours = [x.text for x in rec.recognize(lines)]
    ours_ms = median_ms(batched(rec), lines, 1)
    ours_single_ms = median_ms(per_item(rec), lines, 1)
    ours_scores = score(truths, ours)
    tess_line = "Tesseract not installed (apt-get install tesseract-ocr)"
    if shutil.which("tesseract"):
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for i, img in enumerate(lines):
                path = Path(tmp) / f"{i}.png"
                cv2.imwrite(str(path), img)
                paths.append(path)
            t_texts, t_ms = tesseract(paths)
            version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
            t_scores = score(truths, t_texts)
            g_scores = score(truths, g_texts)
            name = f"htr-desktop {rec.version}"
            rows_t = [
                (f"{version} (--psm 7, 1 thread)", t_scores, t_ms),
                (f"{name} ({rec.decoder}), batch 1, {rec.threads} thread(s)", ours_scores, ours_single_ms),
                (f"{name} ({rec.decoder}), batched, {rec.threads} thread(s)", ours_scores, ours_ms),
                (f"{name} (greedy), batch 1, {greedy.threads} thread(s)", g_scores, g_ms),
            ]
            tess_line = "\n".join(f"| {n} | {sc.cer:.1%} | {sc.wer:.1%} | {ms:.1f} | {t_ms / ms:.1f}x |"
                                   for n, sc, ms in rows_t)
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "line.png"
        cv2.imwrite(str(sample), lines[0])
        ver_s, rec_s, peak = cli_times(sample)

    table = "\n".join(f"| {t} | {a:.1f} | {b:.1f} | {c:.1f} | {d:.1f} |" for t, a, b, c, d in rows)
    body = f"""## Recognition engine (`python -m benchmarks.engine_speed`)

Machine: {machine()}. Model {rec.version}, greedy decoding, LiteRT (XNNPACK), int8 dynamic-range weights.
{len(words)} synthetic words (rendered with @fontsource fonts) and {len(lines)} real IAM lines from the
held-back validation groups ({", ".join(val_groups)}); ms per item, median of repeats.

| threads | word, batch 1 | word, batched | line, batch 1 | line, batched |
|---|---|---|---|---|
{table}

Command-line start-up (median of 5 runs, fresh processes): `htr-desktop --version` {ver_s * 1000:.0f} ms;
`htr-desktop recognize --json <one line>` {rec_s * 1000:.0f} ms end to end. Peak RSS of those processes: {peak:.0f} MB.

### Side by side with Tesseract 5 on the same {len(lines)} lines

| engine | CER | WER | ms / line | speed |
|---|---|---|---|---|
{tess_line}
"""
    write_section("engine", body)
    print(body)
    print(json.dumps({"ours": ours_scores.as_dict()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
