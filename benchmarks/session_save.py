"""How long an autosave and a restore take (they run on the GUI thread): a session of many pages and regions.

Usage: python -m benchmarks.session_save [--pages 20] [--no-write]
Pages are 2000x1500 gray images with 40 line regions each (words included). Writes the "session" section.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.report import load_note, machine, publish
from htr_desktop import session
from htr_desktop.regions import Page, Region, RegionWord


def make_page(n: int) -> Page:
    """A page of paper-like noise (realistic PNG size) with 40 recognized lines."""
    rng = np.random.default_rng(n)
    gray = np.clip(rng.normal(225, 12, (1500, 2000)), 0, 255).astype(np.uint8)
    regions = [Region((40, 30 + 36 * i, 1800, 32), f"line {i} of page {n} with some words", 0.8,
                      [RegionWord(w, 0.8, (40 + 120 * j, 30 + 36 * i, 100, 30))
                       for j, w in enumerate(f"line {i} of page {n} with some words".split())])
               for i in range(40)]
    return Page(f"page-{n}.png", gray, f"/photos/page-{n}.png", regions)


def timed(fn: object) -> float:
    t = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--pages", type=int, default=20)
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args()
    pages = [make_page(n) for n in range(args.pages)]
    with tempfile.TemporaryDirectory() as tmp:
        s = session.Session.open(Path(tmp))
        first = timed(lambda: s.save(pages, 0))
        edits = []
        for i in range(10):
            pages[i % len(pages)].regions[0].text += "x"
            edits.append(timed(lambda: s.save(pages, 0)))
        new_page = []
        for i in range(5):
            pages.append(make_page(1000 + i))
            new_page.append(timed(lambda: s.save(pages, 0)))
        s.close()
        restore = []
        for _ in range(3):
            t = time.perf_counter()
            s = session.Session.open(Path(tmp))
            s.restore()
            restore.append(time.perf_counter() - t)
            s.close()
        size = sum(f.stat().st_size for f in Path(tmp).glob("*.sqlite3*")) / 1e6
    note = load_note()
    body = f"""## Session store: save and restore (`python -m benchmarks.session_save`)

{machine()}; {args.pages} pages of 2000x1500 px, 40 line regions each; {note}. Autosave runs on the GUI thread at
most 1 s after the first change, so a save must stay well under a second.

| operation | median seconds |
|---|---|
| first save ({args.pages} new images, PNG-encoded once) | {first:.2f} (single run) |
| save after a text edit (10 runs) | {statistics.median(edits):.3f} |
| save with one new page (5 runs) | {statistics.median(new_page):.3f} |
| open + restore {args.pages + 5} pages (3 runs) | {statistics.median(restore):.2f} |

Database size: {size:.0f} MB. An edit rewrites the page documents (JSON) in one transaction; images are
stored once (content-addressed) and only a new page is encoded.
"""
    return publish("session", body, not args.no_write)


if __name__ == "__main__":
    sys.exit(main())
