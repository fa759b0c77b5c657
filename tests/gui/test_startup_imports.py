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
