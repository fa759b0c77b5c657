"""Peak memory of ``htr-desktop recognize`` on one image, up to a 119-megapixel photo of a page.

Usage: python -m benchmarks.memory [--exe dist/htr-desktop/htr-desktop] [--no-write]
The page is composed from held-back IAM lines (benchmarks.data) and enlarged to 13000x9150; each run is a
fresh process whose peak resident memory (GNU time) is reported. Writes the "memory" section.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"] = str(200_000_000)  # this script writes the big images itself

import cv2  # noqa: E402

from benchmarks.data import HELD_BACK_GROUPS, iam_gt  # noqa: E402
from benchmarks.page_speed import words_page  # noqa: E402
from benchmarks.report import load_note, machine, write_section  # noqa: E402
from training.pages import iam_source, text_source  # noqa: E402

BIG = (13000, 9150)  # 119 megapixels
TIME = "/usr/bin/time"  # GNU time (Debian package `time`)
JPEG, PNG = "colour JPEG", "colour PNG"


def peak_mb(cmd: list[str]) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, exit code) of one process, measured by GNU time.

    Not ``wait4`` from here: Linux carries a parent's peak into a forked child, and this process holds big images.
    """
    t = time.perf_counter()
    out = subprocess.run([TIME, "-f", "%M", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(out.stderr.strip().splitlines()[-1]) / 1024, time.perf_counter() - t, out.returncode


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--exe", help="the packaged executable instead of `python -m htr_desktop`")
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args()
    gt = iam_gt()
    source = iam_source(gt, list(HELD_BACK_GROUPS)) if gt else text_source(0)
    page, _, _ = words_page(source, 200)
    exe = [args.exe] if args.exe else [sys.executable, "-m", "htr_desktop"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        files = {"200-word page, 1510x2002 JPEG": Path(tmp, "page.jpg")}
        cv2.imwrite(str(files["200-word page, 1510x2002 JPEG"]), page)
        big = cv2.cvtColor(cv2.resize(page, BIG, interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2BGR)
        for kind, name, params in ((JPEG, "big.jpg", [cv2.IMWRITE_JPEG_QUALITY, 85]),
                                   (PNG, "big.png", [cv2.IMWRITE_PNG_COMPRESSION, 1])):
            files[f"the same page at 13000x9150 (119 MP), {kind}"] = Path(tmp, name)
            cv2.imwrite(str(Path(tmp, name)), big, params)
        del big
        for name, path in files.items():
            for layout in ("auto", "line"):
                mb, secs, code = peak_mb([*exe, "recognize", "--layout", layout, "--json", str(path)])
                rows.append(f"| {name} | `{layout}` | {mb:.0f} | {secs:.1f} | {'ok' if code == 0 else code} |")
    note = load_note()
    from model.bundle import bundled_model_dir, read_info

    body = f"""## Memory: peak of one image (`python -m benchmarks.memory{' --exe ' + args.exe if args.exe else ''}`)

{machine()}; model {read_info(bundled_model_dir()).version}; a fresh `htr-desktop recognize --json` process per row;
peak resident memory from GNU `time -f %M`. {note}.
Target: at most 500 MB for any single image.

| image | layout | peak MB | seconds | exit |
|---|---|---|---|---|
{chr(10).join(rows)}

JPEGs and large opaque PNGs are decoded straight to 8-bit gray (one decode, no colour copy); pages are segmented
on a copy reduced to 2,200 px; a word/line image is reduced to 8 megapixels before preprocessing; the line
segmentation's nearest-line search works in bounded chunks. Images above 120 megapixels are refused with a message.
"""
    print(body)
    if not args.no_write:
        write_section("memory", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
