"""Without --json every bad file is one line on stderr, naming the file once, and no library chatter."""

from __future__ import annotations

import os
import subprocess
import sys

import cv2

from tests.conftest import render_text


def test_each_bad_file_is_one_plain_line_on_stderr(tmp_path):
    cv2.imwrite(str(tmp_path / "good.png"), render_text("hello"))
    data = (tmp_path / "good.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.png").write_bytes(data[:8] + bytes(range(256)) * 4)  # PNG magic, then no IHDR
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    env.pop("OPENCV_LOG_LEVEL", None)
    out = subprocess.run([sys.executable, "-m", "htr_desktop", "recognize", "cut.png", "junk.png", "good.png"],
                         cwd=tmp_path, env=env, capture_output=True, timeout=300, text=True)
    assert out.returncode == 1
    assert out.stderr.splitlines() == [
        "cut.png: error: not a readable image (corrupt, truncated or unsupported format)",
        "junk.png: error: not a readable image (corrupt, truncated or unsupported format)"]
    assert out.stdout.startswith("good.png\t")
