"""``python -m tests``: lint (ruff), architecture contracts (import-linter), types (mypy), then pytest offscreen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    """Run every check; non-zero exit if any fails."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_DRIVER": "PySide6", "TF_CPP_MIN_LOG_LEVEL": "2"}
    bin_dir = Path(sys.executable).parent
    steps = [
        [str(bin_dir / "ruff"), "check", "."],
        [str(bin_dir / "lint-imports")],
        [str(bin_dir / "mypy")],  # files and settings: [tool.mypy] in pyproject.toml
        # TensorFlow (imported only by the slow train/export tests) and libsane in one process segfault in
        # sane.get_devices(); the app never imports TensorFlow, so the slow tests run in a process of their own.
        [sys.executable, "-m", "pytest", "-m", "not slow", *sys.argv[1:]],
        [sys.executable, "-m", "pytest", "-m", "slow", *sys.argv[1:]],
    ]
    for cmd in steps:
        print("+", " ".join(cmd), flush=True)
        code = subprocess.call(cmd, cwd=ROOT, env=env)
        if code != 0:
            print(f"FAILED ({code}): {' '.join(cmd)}", flush=True)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
