"""Personal adaptation measured per writer: adapt on 15 lines of one hand, test on that hand's other lines.

Usage:
  python -m benchmarks.adapt_writers prepare      # writer folders under ~/.cache/htr-desktop/adapt-eval
  python -m benchmarks.adapt_writers run [--writers a,b] [--minutes 5] [--exe dist/htr-desktop/htr-desktop]

Writers (all from data the project may use, none of them used to train the bundled model 0.1):
- IAM writers of the allowed extra forms (``/work/shared/data/iam_extra_forms.txt``) in groups outside the training
  groups with at least 20 lines; lines are rebuilt from the word crops of ``iam-words`` (``words_new.txt`` boxes,
  pasted on white). Writer ids come from IAM's ``forms.txt`` (a public copy: RihamHazem/WriterIdentification).
- IAM writer 542: real lines of the held-back validation group m03 (never trained on by model 0.1 or 0.2).
- Kaggle handwritten names (``written_name_train_v2.csv``, TRAIN_10001 on: held back from training) as one
  "form style".
- Three Debian handwriting fonts (evaluation only, never trained on), rendered by ``training.render_eval``.
Writes the "adaptation" section of docs/benchmarks.md and docs/adaptation.md (per writer).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from benchmarks.report import load_note, machine, write_section

DATA = Path.home() / ".cache/htr-desktop/data"
OUT = Path.home() / ".cache/htr-desktop/adapt-eval"
ADAPT_LINES = 15
# IAM writers (forms.txt writer id -> forms) of the allowed extra forms, outside the training groups, >= 20 lines.
IAM_WRITERS = {
    "iam-246": ["e07-012", "e07-061", "e07-066", "e07-072"],
    "iam-241": ["e04-091", "e04-095", "e04-099", "e04-132"],
    "iam-242": ["e04-103", "e04-109", "e04-114"],
    "iam-243": ["e04-119", "e04-124", "e04-127"],
}
# Writer 542 (m03-110, m03-114): real line images of a held-back validation group (never trained on by 0.1 or 0.2).
IAM_LINE_WRITERS = {"iam-542": ["m03-110", "m03-114"]}
NAMES_FROM = 10001  # Kaggle TRAIN_ crops from here on are held back from training (training/configs/bundled.toml)
FONTS = {
    "font-dkg": "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "font-breip": "/usr/share/fonts/truetype/breip/Breip.ttf",
    "font-femkeklaver": "/usr/share/fonts/truetype/femkeklaver/femkeklaver.ttf",
}


def _write(folder: Path, name: str, image: np.ndarray, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / f"{name}.png"), image)
    (folder / f"{name}.txt").write_text(text + "\n", encoding="utf-8")


def iam_lines(forms: list[str]) -> list[tuple[str, np.ndarray, str]]:
    """Lines of these forms rebuilt from word crops: (line id, image, text)."""
    from training.datasets import detokenize_iam

    words: dict[str, list[tuple[int, int, int, int, str, Path]]] = defaultdict(list)
    root = DATA / "iam-words"
    for row in (root / "words_new.txt").read_text(encoding="utf-8").splitlines():
        if row.startswith("#") or not row.strip():
            continue
        parts = row.split(" ")
        wid = parts[0]
        form = "-".join(wid.split("-")[:2])
        if form not in forms:
            continue
        x, y, w, h = (int(v) for v in parts[3:7])
        path = root / "words" / form.split("-")[0] / form / f"{wid}.png"
        if w > 0 and h > 0 and path.is_file():
            words["-".join(wid.split("-")[:3])].append((x, y, w, h, " ".join(parts[8:]), path))
    out = []
    for line_id in sorted(words):
        boxes = sorted(words[line_id])
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
        canvas = np.full((y1 - y0 + 20, x1 - x0 + 20), 255, np.uint8)
        for x, y, w, h, _, path in boxes:
            crop = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if crop is None:
                continue
            crop = crop[:h, :w]
            region = canvas[y - y0 + 10: y - y0 + 10 + crop.shape[0], x - x0 + 10: x - x0 + 10 + crop.shape[1]]
            np.minimum(region, crop, out=region)
        out.append((line_id, canvas, detokenize_iam(" ".join(b[4] for b in boxes))))
    return out


def iam_gt_lines(forms: list[str]) -> list[tuple[str, np.ndarray, str]]:
    """Real line images of these forms from the IAM lines cache (``gt_test.txt`` + ``image/``)."""
    from training.datasets import detokenize_iam

    root = DATA / "iam-lines" / "IAM"
    out = []
    for row in (root / "gt_test.txt").read_text(encoding="utf-8").splitlines():
        if "\t" not in row:
            continue
        name, text = row.split("\t", 1)
        if "-".join(name.split("-")[:2]) in forms:
            img = cv2.imread(str(root / "image" / name), cv2.IMREAD_GRAYSCALE)
            if img is not None:
                out.append((Path(name).stem, img, detokenize_iam(text)))
    return sorted(out)


def prepare(seed: int = 0) -> None:
    """Write OUT/<writer>/{adapt,test}/*.png + .txt."""
    rng = random.Random(seed)
    for writer, forms in IAM_WRITERS.items():
        lines = iam_lines(forms)
        rng.shuffle(lines)
        for i, (lid, img, text) in enumerate(lines):
            _write(OUT / writer / ("adapt" if i < ADAPT_LINES else "test"), lid, img, text)
        print(writer, len(lines), "lines")
    for writer, forms in IAM_LINE_WRITERS.items():
        lines = iam_gt_lines(forms)
        rng.shuffle(lines)
        for i, (lid, img, text) in enumerate(lines):
            _write(OUT / writer / ("adapt" if i < ADAPT_LINES else "test"), lid, img, text)
        print(writer, len(lines), "lines")
    names = DATA / "names"
    rows = list(csv.reader((names / "written_name_train_v2.csv").open(encoding="utf-8")))[1:]
    rows = [r for r in rows if r[0].startswith("TRAIN_") and int(r[0][6:11]) >= NAMES_FROM
            and (names / "train_v2_test" / r[0]).is_file() and r[1] and r[1] not in ("UNREADABLE", "EMPTY")]
    rng.shuffle(rows)
    for i, (fname, text) in enumerate(rows[: ADAPT_LINES + 100]):
        img = cv2.imread(str(names / "train_v2_test" / fname), cv2.IMREAD_GRAYSCALE)
        _write(OUT / "kaggle-names" / ("adapt" if i < ADAPT_LINES else "test"), Path(fname).stem, img, text)
    from training.render_eval import render_set

    for writer, font in FONTS.items():
        with tempfile.TemporaryDirectory() as tmp:
            render_set([Path(font)], "lines", ADAPT_LINES + 40, Path(tmp), seed=seed + 1)
            labels = [r.split("\t", 1) for r in (Path(tmp) / "labels.tsv").read_text().splitlines() if r]
            for i, (name, text) in enumerate(labels):
                img = cv2.imread(str(Path(tmp) / name), cv2.IMREAD_GRAYSCALE)
                _write(OUT / writer / ("adapt" if i < ADAPT_LINES else "test"), Path(name).stem, img, text)
        print(writer, "rendered")


def _folder(folder: Path) -> tuple[list[np.ndarray], list[str]]:
    from model.lines import read_lines_folder

    samples = read_lines_folder(folder)
    return [s.image for s in samples], [s.text for s in samples]


def run(writers: list[str], minutes: float, exe: str | None) -> list[dict]:
    """Adapt each writer (the CLI, in a fresh process) and score base vs personal model on its test lines."""
    from model.adapt import cer
    from model.recognizer import Recognizer

    base = Recognizer.load()
    rows = []
    for writer in writers:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "personal"
            cmd = ([exe] if exe else [sys.executable, "-m", "htr_desktop"]) + [
                "adapt", "--lines", str(OUT / writer / "adapt"), "--out", str(out), "--minutes", str(minutes)]
            t0 = time.monotonic()
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            seconds = time.monotonic() - t0
            last = json.loads(proc.stdout.strip().splitlines()[-1])
            images, truths = _folder(OUT / writer / "test")
            before = cer(truths, [p.text for p in base.recognize(images)])
            personal = Recognizer.load(out) if last.get("installed") else base
            after = cer(truths, [p.text for p in personal.recognize(images)])
        row = {"writer": writer, "test_lines": len(truths), "test_cer_before": before, "test_cer_after": after,
               "relative_reduction": (before - after) / before if before else 0.0, "seconds": seconds,
               "held_cer_before": last["cer_before"], "held_cer_after": last["cer_after"],
               "installed": last["installed"], "epochs": last["epochs"]}
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def report(rows: list[dict], minutes: float, exe: str | None) -> None:
    """Write docs/adaptation.md (per writer) and the summary section of docs/benchmarks.md."""
    mean = sum(r["relative_reduction"] for r in rows) / len(rows)
    table = ["| writer | test lines | CER before | CER after | relative reduction | held-aside CER before → after "
             "| installed | time (s) |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        table.append(f"| {r['writer']} | {r['test_lines']} | {100 * r['test_cer_before']:.1f} % | "
                     f"{100 * r['test_cer_after']:.1f} % | {100 * r['relative_reduction']:.0f} % | "
                     f"{100 * r['held_cer_before']:.1f} → {100 * r['held_cer_after']:.1f} % | "
                     f"{'yes' if r['installed'] else 'no'} | {r['seconds']:.0f} |")
    times = sorted(r["seconds"] for r in rows)
    from model.bundle import bundled_model_dir, read_info

    summary = (f"Model {read_info(bundled_model_dir()).version}. "
               f"Mean relative CER reduction on the writers' unseen lines: **{100 * mean:.0f} %** over {len(rows)} "
               f"writers; adapt took {times[len(times) // 2]:.0f} s median, {times[-1]:.0f} s at most "
               f"(`--minutes {minutes:g}`, {'packaged executable' if exe else 'python -m htr_desktop'}, {machine()}; "
               f"{load_note()}).")
    note = ("`held-aside`: the fifth of the 15 lines that `adapt` keeps aside to decide whether to install; the test "
            "lines are never seen by `adapt`. Times include loading, reading the lines and the before/after check.")
    body = "\n".join([summary, "", note, "", *table, ""])
    write_section("adaptation", "## Personal adaptation\n\n" + body)
    path = Path("docs/adaptation.md")
    head = path.read_text(encoding="utf-8").split("<!-- results -->")[0] if path.is_file() else "# Adaptation\n\n"
    path.write_text(head + "<!-- results -->\n" + body, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.adapt_writers")
    p.add_argument("step", choices=["prepare", "run"])
    p.add_argument("--writers", help="comma-separated (default: all prepared)")
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--exe", help="the packaged executable (default: python -m htr_desktop)")
    args = p.parse_args(argv)
    if args.step == "prepare":
        prepare()
        return 0
    writers = args.writers.split(",") if args.writers else sorted(d.name for d in OUT.iterdir() if d.is_dir())
    rows = run(writers, args.minutes, args.exe)
    report(rows, args.minutes, args.exe)
    return 0


if __name__ == "__main__":
    sys.exit(main())
