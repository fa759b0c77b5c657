"""app.exit() with the window open and recognition running: the worker thread stops, the session is saved."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

SCRIPT = """
import sys, time
from pathlib import Path
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from htr_desktop.main_window import MainWindow
from htr_desktop.settings import Settings
from htr_desktop.worker import Task
from tests.gui.conftest import FakeRecognizer

class Slow(FakeRecognizer):
    def recognize(self, images):
        time.sleep(0.3)
        return super().recognize(images)

folder = Path(sys.argv[1])
app = QApplication([])
settings = Settings(QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat))
rec = Slow()
window = MainWindow(settings, lambda: rec, folder / "session")
window.show()
window.start([])
from htr_desktop.regions import Page
window.workspace.add_pages([Page("blank.png", __import__("numpy").full((40, 90), 250, "uint8"))], recognize=False)
window.service.submit(Task(page_id=0, job=lambda r: r.recognize([__import__("numpy").zeros((20, 80), "uint8")] * 40)))
QTimer.singleShot(500, lambda: app.exit(0))
code = app.exec()
print("thread finished:", window.service.worker_thread.isFinished(), "calls:", rec.calls, flush=True)
sys.exit(code)
"""


def test_app_exit_with_window_open_stops_the_worker(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env, capture_output=True, text=True,
                         timeout=120, cwd=os.getcwd())
    assert out.returncode == 0, out.stderr
    assert "Destroyed while thread" not in out.stderr
    line = out.stdout.strip().splitlines()[-1]
    assert line.startswith("thread finished: True")
    calls = int(line.rsplit(" ", 1)[1])
    assert 1 <= calls < 5  # cancelled between chunks of 8, not run to the end (40 crops = 5 chunks)
    con = sqlite3.connect(tmp_path / "session" / "htr-desktop.sqlite3")
    assert con.execute("SELECT doc FROM session_pages").fetchall() == [('{"name": "blank.png", "source": "", '
                                                                        '"regions": []}',)]  # saved at quit
