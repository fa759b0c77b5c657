"""The window is built and shown before numpy, OpenCV, qimage2ndarray or model.* are imported (fast start-up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("numpy", "cv2", "qimage2ndarray", "model.imageio", "model.page", "model.recognizer", "ai_edge_litert")

SCRIPT = """
import json, sys
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from htr_desktop.app import model_loader
from htr_desktop.main_window import MainWindow
from htr_desktop.settings import Settings
app = QApplication([])
settings = Settings(QSettings(sys.argv[1] + "/s.ini", QSettings.Format.IniFormat))
window = MainWindow(settings, model_loader(settings), None)
window.show()
app.processEvents()
print(json.dumps(sorted(m for m in sys.modules if m in sys.argv[2:])))
window.service.shutdown()
"""


def test_window_shows_without_heavy_imports(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HTR_DESKTOP_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), *HEAVY], env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_benchmark_marks_shown_then_painted(tmp_path):
    """HTR_DESKTOP_BENCH records the window shown, then its first paint (the cold-start measure), and the app ends."""
    marks = tmp_path / "marks.jsonl"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HTR_DESKTOP_DATA_DIR": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "HTR_DESKTOP_BENCH": str(marks)}
    subprocess.run([sys.executable, "-m", "htr_desktop"], env=env, capture_output=True, timeout=120, check=True)
    events = {e["event"]: e["time"] for e in map(json.loads, marks.read_text().splitlines())}
    assert events["shown"] <= events["painted"]
