"""Personal adaptation measured per writer: adapt on 15 lines of one hand, test on that hand's other lines.

Usage:
  python -m benchmarks.adapt_writers prepare      # writer folders under ~/.cache/htr-desktop/adapt-eval
  python -m benchmarks.adapt_writers run [--writers a,b] [--minutes 5] [--exe dist/htr-desktop/htr-desktop]
  python -m benchmarks.adapt_writers report       # the docs again from the last run's RESULTS

Writers (none of them trained on by the bundled models 0.2 and 0.3; see training/configs/bundled*.toml):
- IAM writers (writer ids of IAM's ``forms.txt``; a public copy: RihamHazem/WriterIdentification) all of whose
  forms lie in the held-back validation groups d05 g04 m03 n03 p01: no form of theirs is in a training group or in
  ``iam_extra_forms.txt``. Real line images from the IAM lines cache; kept if it holds at least 17 of their lines
  (15 to adapt on, at least 2 to test on). Writers 241-246 of the extra forms were used up to model 0.1: model 0.2
  trains on every extra form, so they are seen writers now and left out.
- Kaggle handwritten names (``written_name_train_v2.csv``, TRAIN_10001 on: held back from training) as one
  "form style".
- Three Debian handwriting fonts (evaluation only, never trained on), rendered by ``training.render_eval``.
Writes the "adaptation" section of docs/benchmarks.md and docs/adaptation.md (per writer).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.report import load_note, machine, write_section

DATA = Path.home() / ".cache/htr-desktop/data"
OUT = Path.home() / ".cache/htr-desktop/adapt-eval"
RESULTS = OUT / "results.json"  # the last run's rows, read by the report step
ADAPT_LINES = 15
BAR_REDUCTION, BAR_SECONDS = 0.25, 300.0  # issue 11: mean relative CER reduction, time per writer
MIN_TEST_LINES = 2
# IAM writers (forms.txt writer id -> forms) all of whose forms are in the held-back groups d05 g04 m03 n03 p01, with
# >= ADAPT_LINES + MIN_TEST_LINES real line images in the cache (lines there: 199 36, 542 20, 325 19, 577 19, 321 17;
# every other such writer has at most 12).
IAM_LINE_WRITERS = {
    "iam-199": ["d05-008", "d05-021", "d05-025", "d05-030"],
    "iam-321": ["g04-043", "g04-048"],
    "iam-325": ["g04-068", "g04-072"],
    "iam-542": ["m03-110", "m03-114"],
    "iam-577": ["n03-097", "n03-103"],
}
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
    """Write OUT/<writer>/{adapt,test}/*.png + .txt (folders of an earlier draw are removed first)."""
    rng = random.Random(seed)
    shutil.rmtree(OUT, ignore_errors=True)
    for writer, forms in IAM_LINE_WRITERS.items():
        lines = iam_gt_lines(forms)
        need = ADAPT_LINES + MIN_TEST_LINES
        if len(lines) < need:
            raise SystemExit(f"{writer}: {len(lines)} lines in the IAM lines cache, {need} needed")
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


def _adapt_in_process(folder: Path, out: Path, minutes: float, options: dict) -> dict:
    """``model.adapt.adapt`` in this process, with ``options`` (fields of ``AdaptOptions``) -> the CLI's JSON."""
    from model.adapt import AdaptOptions, adapt
    from model.lines import read_lines_folder

    return adapt(read_lines_folder(folder), out, opts=AdaptOptions(minutes=minutes, **options)).to_json()


def _adapt_cli(folder: Path, out: Path, minutes: float, exe: str | None, writer: str) -> dict:
    """``htr-desktop adapt`` (or the packaged executable) in a fresh process -> its last JSON line."""
    cmd = ([exe] if exe else [sys.executable, "-m", "htr_desktop"]) + [
        "adapt", "--lines", str(folder), "--out", str(out), "--minutes", str(minutes)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1) or not proc.stdout.strip():  # 1: adapted, not better, not installed
        raise SystemExit(f"{writer}: adapt failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process and its finished children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run(writers: list[str], minutes: float, exe: str | None, options: dict | None = None) -> list[dict]:
    """Adapt each writer and score base vs personal model on its test lines.

    ``options`` (``AdaptOptions`` fields) runs ``adapt`` in this process instead of the CLI, to compare settings.
    """
    from model.adapt import cer
    from model.recognizer import Recognizer

    base = Recognizer.load()
    rows = []
    for writer in writers:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "personal"
            t0, c0 = time.monotonic(), _cpu_seconds()
            if options is None:
                last = _adapt_cli(OUT / writer / "adapt", out, minutes, exe, writer)
            else:
                last = _adapt_in_process(OUT / writer / "adapt", out, minutes, options)
            seconds, cpu = time.monotonic() - t0, _cpu_seconds() - c0
            load = os.getloadavg()[0]
            images, truths = _folder(OUT / writer / "test")
            before = cer(truths, [p.text for p in base.recognize(images)])
            personal = Recognizer.load(out) if last.get("installed") else base
            after = cer(truths, [p.text for p in personal.recognize(images)])
        row = {"writer": writer, "test_lines": len(truths), "test_chars": sum(len(" ".join(t.split())) for t in truths),
               "load": load, "test_cer_before": before, "test_cer_after": after,
               "relative_reduction": (before - after) / before if before else 0.0, "seconds": seconds,
               "cpu_seconds": cpu, "held_cer_before": last["cer_before"], "held_cer_after": last["cer_after"],
               "installed": last["installed"], "epochs": last["epochs"], "refit_epochs": last.get("refit_epochs", 0),
               "decoder": last.get("decoder", ""), "personal_words": last.get("personal_words"),
               "stretch": last.get("stretch", 1.0)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def _cpu(row: dict) -> str:
    return f"{row['cpu_seconds']:.0f}" if "cpu_seconds" in row else ""


def _chosen(row: dict) -> str:
    """What the cross-validation rounds chose: stretch, decoder weights, the user's words in the word list."""
    parts = [f"×{row.get('stretch', 1.0):g}", "LM half" if "half" in row.get("decoder", "") else "LM full"]
    if row.get("personal_words") is not None:
        parts.append(f"own words at {row['personal_words']:g}")
    return ", ".join(parts) + f", {row['epochs']} epochs"


def report(results: dict) -> None:
    """Write docs/adaptation.md (per writer) and the summary section of docs/benchmarks.md."""
    rows, minutes, exe, options = results["rows"], results["minutes"], results["exe"], results.get("options")
    how = "packaged executable" if exe else (f"in-process, options {json.dumps(options)}" if options is not None
                                             else "python -m htr_desktop")
    mean = sum(r["relative_reduction"] for r in rows) / len(rows)
    table = ["| writer | test lines | CER before | CER after | relative reduction | held-aside CER before → after "
             "| installed | chosen | time (s) | CPU time (s) | load (1 min) |", "|---" * 11 + "|"]
    for r in rows:
        table.append(f"| {r['writer']} | {r['test_lines']} | {100 * r['test_cer_before']:.1f} % | "
                     f"{100 * r['test_cer_after']:.1f} % | {100 * r['relative_reduction']:.0f} % | "
                     f"{100 * r['held_cer_before']:.1f} → {100 * r['held_cer_after']:.1f} % | "
                     f"{'yes' if r['installed'] else 'no'} | {_chosen(r)} | {r['seconds']:.0f} | "
                     f"{_cpu(r)} | {r['load']:.1f} |")
    iam = [r for r in rows if r["writer"].startswith("iam-")]
    pooled = ""
    if iam:
        chars = sum(r["test_chars"] for r in iam)
        cer_b = sum(r["test_cer_before"] * r["test_chars"] for r in iam) / chars
        cer_a = sum(r["test_cer_after"] * r["test_chars"] for r in iam) / chars
        pooled = (f" IAM writers alone: mean {100 * sum(r['relative_reduction'] for r in iam) / len(iam):.0f} % over "
                  f"{len(iam)} writers; all their {sum(r['test_lines'] for r in iam)} test lines pooled: CER "
                  f"{100 * cer_b:.1f} → {100 * cer_a:.1f} % (reduction {100 * (cer_b - cer_a) / cer_b:.0f} %).")
    met = mean >= BAR_REDUCTION and max(r["seconds"] for r in rows) <= BAR_SECONDS
    bar = (f" Bar (mean reduction ≥ {100 * BAR_REDUCTION:.0f} %, adapt ≤ {BAR_SECONDS:.0f} s per writer): "
           f"**{'met' if met else 'not met'}**.")
    times = sorted(r["seconds"] for r in rows)
    cpu = sorted(r["cpu_seconds"] for r in rows if "cpu_seconds" in r)
    cpu_note = f", CPU time {cpu[len(cpu) // 2]:.0f} s median, {cpu[-1]:.0f} s at most" if cpu else ""
    summary = (f"Model {results['model']}. "
               f"Mean relative CER reduction on the writers' unseen lines: **{100 * mean:.0f} %** over {len(rows)} "
               f"writers; adapt took {times[len(times) // 2]:.0f} s median, {times[-1]:.0f} s at most{cpu_note} "
               f"(`--minutes {minutes:g}`, {how}, {machine()}; "
               f"{results['load_note']})." + pooled + bar)
    note = ("`held-aside`: the 15 lines `adapt` gets, each read by the cross-validation round that kept it aside (for "
            "\"before\", by the bundled model); `adapt` decides on these whether to install; the test "
            "lines are never seen by `adapt`. `chosen`: the input stretch, decoder weights, personal words and epoch "
            "count the rounds chose. Times include loading, reading the lines and the before/after check; CPU "
            "time: user + system of the `adapt` process (both cores count); "
            "`load`: the 1-minute load average when that writer's `adapt` ended. A writer read without an error "
            "before adapting counts as 0 % (nothing to reduce).\n\n"
            "`python -m benchmarks.adapt_writers prepare && python -m benchmarks.adapt_writers run "
            f"--minutes {minutes:g}" + (f" --exe {exe}`" if exe else
                                        f" --options '{json.dumps(options)}'`" if options is not None else "`"))
    body = "\n".join([summary, "", note, "", *table, ""])
    write_section("adaptation", "## Personal adaptation\n\n" + body)
    path = Path("docs/adaptation.md")
    head = path.read_text(encoding="utf-8").split("<!-- results -->")[0] if path.is_file() else "# Adaptation\n\n"
    path.write_text(head + "<!-- results -->\n" + body, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.adapt_writers")
    p.add_argument("step", choices=["prepare", "run", "report"])
    p.add_argument("--writers", help="comma-separated (default: all prepared)")
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--exe", help="the packaged executable (default: python -m htr_desktop)")
    p.add_argument("--options", help="JSON of AdaptOptions fields: adapt in this process with them, write the rows "
                   "to --results only (to compare settings; the docs are not touched)")
    p.add_argument("--results", type=Path, help="where --options writes its rows (report: which rows to write up)")
    args = p.parse_args(argv)
    if args.step == "prepare":
        prepare()
        return 0
    if args.step == "run":
        from model.bundle import bundled_model_dir, read_info

        writers = args.writers.split(",") if args.writers else sorted(d.name for d in OUT.iterdir() if d.is_dir())
        options = json.loads(args.options) if args.options else None
        rows = run(writers, args.minutes, args.exe, options)
        results = {"model": read_info(bundled_model_dir()).version, "minutes": args.minutes, "exe": args.exe,
                   "load_note": load_note(), "options": options, "rows": rows}
        if options is not None:
            target = args.results or OUT / "results-options.json"
            target.write_text(json.dumps(results, indent=1), encoding="utf-8")
            return 0
        RESULTS.write_text(json.dumps(results, indent=1), encoding="utf-8")
    report(json.loads((args.results or RESULTS).read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
