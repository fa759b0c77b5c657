"""Decoder speed: milliseconds to decode one line's network output, per decoder, on the held-back IAM lines
and names (the network runs once, outside the timing). Writes the "decoder" section of docs/benchmarks.md.

Usage: python -m benchmarks.decoder_speed [--model resources/model] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from benchmarks.report import machine, write_section
from model.decoder_config import DECODERS
from model.recognizer import Recognizer
from training.validation import load_sets


def per_line_ms(rec: Recognizer, outputs: list[np.ndarray], repeats: int) -> tuple[float, float]:
    """(median wall ms, median CPU ms) per line; each line's time is the best of ``repeats`` runs."""
    wall, cpu = [], []
    for out in outputs:
        w, c = [], []
        for _ in range(repeats):
            t0, p0 = time.perf_counter(), time.process_time()
            rec.decode(out)
            w.append(time.perf_counter() - t0)
            c.append(time.process_time() - p0)
        wall.append(1000 * min(w))
        cpu.append(1000 * min(c))
    return statistics.median(wall), statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.decoder_speed")
    p.add_argument("--model", default=None, help="bundle folder (default: the bundled model)")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    sets = load_sets(Recognizer.load(args.model, decoder="greedy"))
    rows = []
    for name in DECODERS:
        rec = Recognizer.load(args.model, decoder=name)
        cells = []
        for vset in sets:
            outputs = [o for o in vset.outputs if o is not None]
            wall, cpu = per_line_ms(rec, outputs, args.repeats)
            frames = statistics.median(o.shape[0] for o in outputs)
            cells.append(f"{wall:.2f} | {cpu:.2f} | {frames:.0f}")
        default = " (default)" if name == rec.info.decoder.name else ""
        rows.append(f"| {name}{default} | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    names = " | ".join(f"{s.name} wall ms | {s.name} CPU ms | {s.name} frames" for s in sets)
    body = "\n".join([
        "## Decoders (`python -m benchmarks.decoder_speed`)", "",
        f"{machine()}; model `{rec.version}`. Time to turn one crop's network output into text with word "
        "confidences and n-best alternatives (the network itself is not timed): median over the lines of the "
        f"best of {args.repeats} runs, while other work shares the 2 cores. Lines: {len(sets[0].truths)} held-back "
        "IAM lines; names: the held-back Kaggle name crops. Target: at most 2 ms per line.", "",
        f"| decoder | {names} |", "|---|" + "---|" * (3 * len(sets)), *rows])
    write_section("decoder", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
