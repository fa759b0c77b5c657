"""``htr-desktop --smoke-test`` opens the main window and quits with 0 (offscreen, and on Xvfb if present)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest


def run_smoke(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def test_smoke_test_flag_shows_the_main_window_offscreen(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    proc = run_smoke([sys.executable, "-m", "htr_desktop", "--smoke-test"], env)
    assert proc.returncode == 0, proc.stderr
    assert "smoke-test: main window shown (offscreen)" in proc.stdout


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run not installed")
def test_smoke_test_flag_shows_the_main_window_on_xvfb(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    proc = run_smoke(["xvfb-run", "-a", sys.executable, "-m", "htr_desktop", "--smoke-test"], env)
    assert proc.returncode == 0, proc.stderr
    assert "smoke-test: main window shown (xcb)" in proc.stdout
