"""Time and peak memory of ``htr-desktop recognize`` on pure noise (no writing), per layout.

Usage: python -m benchmarks.noise_cost [--runs 3] [--no-write]
Each run is a fresh process (model loading included); peak resident memory from GNU time. Writes the "noise"
section of docs/benchmarks.md. Before the noise check, the 800x600 image took 11 s and 466 MB in `auto` and
returned garbage with confidence 0.39 (issue 9).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.report import load_note, machine, publish

TIME = "/usr/bin/time"  # GNU time (Debian package `time`)
IMAGES = {  # name -> pixels
    "800x600 uniform": lambda rng: rng.integers(0, 256, (600, 800), dtype=np.uint8),
    "4000x3000 uniform": lambda rng: rng.integers(0, 256, (3000, 4000), dtype=np.uint8),
    "800x600 faint (gray 200, sd 30)": lambda rng: np.clip(rng.normal(200, 30, (600, 800)), 0, 255).astype(np.uint8),
}


def run_once(cmd: list[str]) -> tuple[float, float, str]:
    """(peak MB, seconds, the JSON line printed) of one process."""
    t = time.perf_counter()
    out = subprocess.run([TIME, "-f", "%M", *cmd], capture_output=True, text=True)
    secs = time.perf_counter() - t
    return int(out.stderr.strip().splitlines()[-1]) / 1024, secs, out.stdout.strip()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, (name, make) in enumerate(IMAGES.items()):
            path = Path(tmp, f"noise-{n}.png")
            cv2.imwrite(str(path), make(np.random.default_rng(0)))
            for layout in ("auto", "page", "line"):
                runs = [run_once([sys.executable, "-m", "htr_desktop", "recognize", "--layout", layout, "--json",
                                  str(path)]) for _ in range(args.runs)]
                doc = json.loads(runs[-1][2])
                answer = doc.get("note") or doc.get("error") or repr(doc.get("text", ""))[:30]
                rows.append(f"| {name} | `{layout}` | {statistics.median(r[1] for r in runs):.1f} | "
                            f"{statistics.median(r[0] for r in runs):.0f} | {answer} |")
    note = load_note()
    body = f"""## Noise: no writing (`python -m benchmarks.noise_cost`)

{machine()}; random pixels; a fresh `htr-desktop recognize --json` process per run (model loading
included), median of {args.runs} runs; peak resident memory from GNU `time -f %M`. {note}.
Target: at most 2 s and 500 MB for any single image, and "no writing found" rather than invented text.

| image | layout | seconds | peak MB | answer |
|---|---|---|---|---|
{chr(10).join(rows)}

A page whose ink is only specks, or thousands of specks with hardly a stroke-sized piece (`model.page.is_noise`), is
not segmented. `line` reads the image as one line and finds nothing.
"""
    return publish("noise", body, not args.no_write)


if __name__ == "__main__":
    sys.exit(main())
