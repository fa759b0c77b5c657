"""Plot a run's history (training loss and validation CER against steps and hours) to a PNG."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path


def read_history(paths: list[Path]) -> list[dict[str, float]]:
    """Rows of one or more ``history.csv`` files (stages in order; steps and hours continue)."""
    rows: list[dict[str, float]] = []
    step0 = hours0 = 0.0
    for path in paths:
        with path.open(newline="") as fh:
            stage = [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(fh)]
        for row in stage:
            row["total_step"] = step0 + row.get("step", 0.0)
            row["hours"] = hours0 + row.get("seconds", 0.0) / 3600
        if stage:
            step0, hours0 = stage[-1]["total_step"], stage[-1]["hours"]
        rows += stage
    return rows


def plot(rows: list[dict[str, float]], out: Path, title: str = "") -> None:
    """Loss (left) and validation CER per set (right) against training steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["total_step"] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), dpi=110)
    ax1.plot(steps, [r.get("loss", float("nan")) for r in rows], color="tab:gray")
    ax1.set(xlabel="training step (batch of 16)", ylabel="CTC loss (epoch mean)", yscale="log",
            title="training loss")
    for key in sorted({k for r in rows for k in r if k.startswith("val_cer_")}):
        ax2.plot(steps, [100 * r.get(key, float("nan")) for r in rows], marker="o", ms=3,
                 label=key.removeprefix("val_cer_"))
    ax2.set(xlabel="training step", ylabel="CER % (greedy)", title="validation CER")
    ax2.grid(alpha=0.3)
    ax2.legend()
    if rows:
        top = ax2.secondary_xaxis("top", functions=(lambda s: s, lambda s: s))
        top.set_xticks(steps[:: max(1, len(steps) // 6)],
                       [f"{r['hours']:.1f} h" for r in rows][:: max(1, len(steps) // 6)])
    fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """``python -m training plot HISTORY.csv [...] --out docs/training-curve.png``."""
    ap = argparse.ArgumentParser(prog="python -m training plot", description=__doc__)
    ap.add_argument("history", nargs="+", type=Path, help="history.csv of each stage, in order")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--title", default="")
    args = ap.parse_args(argv)
    plot(read_history(args.history), args.out, args.title)
    print(args.out)
    return 0
