"""Project-level contracts: README commands, CI, and the runtime's import boundaries."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)[:2]


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    run, test = readme_commands()
    assert text.index(run) < text.index(test) < text.index("##")
    assert "python3.11 -m venv .venv" in run and run.endswith(".venv/bin/htr-desktop")
    assert "python3.11 -m venv .venv" in test and "-m tests" in test


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_commands()[1] in ci.splitlines()
    assert ci.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in ci


def test_recognizer_imports_neither_qt_nor_tensorflow():
    code = ("import sys, model.recognizer, model.page, htr_desktop.cli; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'tensorflow', 'keras', 'training')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


def test_no_iam_data_in_the_repository():
    files = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=ROOT).stdout.split()
    pattern = re.compile(r"(^|/)(gt_test\.txt|lines\.txt|words\.txt)$|[a-r]\d\d-\d{3}[a-z]?-\d\d(-\d\d)?\.(jpg|png)$")
    assert not [f for f in files if pattern.search(f)]
