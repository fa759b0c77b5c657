"""Benchmark inputs: the held-back IAM test lines (groups d05 g04 m03 n03 p01 only), found on disk."""

from __future__ import annotations

import os
from pathlib import Path

HELD_BACK_GROUPS = ("d05", "g04", "m03", "n03", "p01")
IAM_GT_CANDIDATES = ("~/.cache/htr-desktop/data/iam-lines/IAM/gt_test.txt", "~/.cache/htr-desktop/iam/IAM/gt_test.txt")


def iam_gt() -> Path | None:
    """IAM's ``gt_test.txt`` (``HTR_IAM_GT`` or the data cache), or None when it is not on this machine."""
    names = [os.environ.get("HTR_IAM_GT", ""), *IAM_GT_CANDIDATES]
    return next((p for p in (Path(n).expanduser() for n in names if n) if p.is_file()), None)


def held_back_lines(n: int = 100) -> list[tuple[Path, str]]:
    """The first ``n`` held-back lines by name (image path, IAM's text); raises SystemExit without IAM."""
    from training.datasets import read_iam_gt, split_by_groups

    gt = iam_gt()
    if gt is None:
        raise SystemExit("IAM gt_test.txt not found: set HTR_IAM_GT (see benchmarks/data.py)")
    samples = sorted(split_by_groups(read_iam_gt(gt), HELD_BACK_GROUPS), key=lambda s: s.path.name)
    samples = [s for s in samples if s.path.is_file()][:n]
    if len(samples) < n:
        raise SystemExit(f"only {len(samples)} held-back IAM lines on disk, {n} wanted")
    return [(s.path, s.text) for s in samples]
