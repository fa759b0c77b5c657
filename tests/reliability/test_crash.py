"""Real processes: a window killed with SIGKILL while the user types, and two processes saving at once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from htr_desktop import session
from tests.reliability.conftest import stored

TYPIST = """
import sys, time
from pathlib import Path
import cv2, numpy as np
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from htr_desktop.main_window import MainWindow
from htr_desktop.settings import Settings
from tests.gui.conftest import FakeRecognizer

folder = Path(sys.argv[1])
key = sys.argv[2] if len(sys.argv) > 2 else "k"
app = QApplication([])
settings = Settings(QSettings(str(folder / f"{key}.ini"), QSettings.Format.IniFormat))
settings.set("recognition/auto", False)
rec = FakeRecognizer()
window = MainWindow(settings, lambda: rec, folder / "session")
window.show()
window.start([])
cv2.imwrite(str(folder / f"letter-{key}.png"), np.full((120, 400), 235, np.uint8))
window.open_paths([str(folder / f"letter-{key}.png")])
region = window.workspace.add_region((10, 10, 300, 60), recognize=False)
edit = window.results.rows[region.id].edit

def type_one():
    edit.insertPlainText(key)
    print(f"{time.time():.3f} {len(edit.toPlainText())}", flush=True)

timer = QTimer()
timer.timeout.connect(type_one)
timer.start(50)
app.exec()
"""

SAVER = """
import sys
from pathlib import Path
from htr_desktop import session
from tests.reliability.conftest import make_page

folder, tag, base = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = session.Session.open(folder)


def meet(step):
    # both instances run at once: each waits for the other at the start and at the end
    # (one that had quit before the other started would rightly hand its session over)
    import time
    (folder / f"{tag}.{step}").touch()
    while len(list(folder.glob(f"*.{step}"))) < 2:
        time.sleep(0.01)


meet("claimed")
pages = [make_page(f"{tag}-{i}.png", seed=base + i) for i in range(3)]
for n in range(40):
    pages[n % 3].regions[0].text = f"{tag} edit {n}"
    s.save(pages if n % 5 else pages[:2], 0)  # now and then a page is closed: its image becomes an orphan
meet("saved")
print(s.id, flush=True)
"""


def test_kill_9_while_typing_loses_nothing_typed_two_seconds_before(tmp_path):
    """Data loss 6: a crash after 4.5 s of continuous typing lost all of it (autosave waited for a pause)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-c", TYPIST, str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=os.getcwd())
    typed: list[tuple[float, int]] = []
    try:
        first = proc.stdout.readline()
        assert first, proc.stderr.read()
        typed.append((float(first.split()[0]), int(first.split()[1])))
        # keep typing for 4.5 s, and on a loaded machine until more than 10 keys are 2 s old (at most a minute)
        while True:
            t, n = proc.stdout.readline().split()
            typed.append((float(t), int(n)))
            now = time.time()
            settled = max((n for t, n in typed if t <= now - 2.0), default=0)
            if (now - typed[0][0] >= 4.5 and settled > 10) or now - typed[0][0] > 60:
                break
    finally:
        killed_at = time.time()
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    must_have = max(n for t, n in typed if t <= killed_at - 2.0)
    assert must_have > 10
    restored = session.Session.open(tmp_path / "session").restore()
    (page,) = restored.pages
    assert page.name == "letter-k.png"
    (region,) = page.regions
    assert region.box == (10, 10, 300, 60) and region.edited
    assert len(region.text) >= must_have and set(region.text) == {"k"}


def test_two_processes_saving_at_once_lose_nothing(tmp_path):
    """Data loss 3: two instances shared session.json.tmp; a reader saw 48 unparseable states."""
    session.Session.open(tmp_path).close()  # the database exists before the readers start
    seen_errors: list[str] = []
    reads = 0
    stop = threading.Event()

    def read_all() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                stored(tmp_path)
                con = sqlite3.connect(tmp_path / "htr-desktop.sqlite3")
                missing = con.execute("SELECT count(*) FROM session_pages p LEFT JOIN blobs b ON p.image = b.key "
                                      "WHERE b.key IS NULL").fetchone()[0]
                con.close()
                if missing:
                    seen_errors.append(f"{missing} page(s) without their image")
                reads += 1
            except Exception as exc:  # noqa: BLE001 - any failure to read is what this test counts
                seen_errors.append(repr(exc))

    reader = threading.Thread(target=read_all)
    reader.start()
    procs = [subprocess.Popen([sys.executable, "-c", SAVER, str(tmp_path), tag, str(base)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=os.getcwd())
             for tag, base in (("a", 100), ("b", 200))]
    outs = [p.communicate(timeout=300) for p in procs]
    stop.set()
    reader.join()
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    ids = [int(o[0]) for o in outs]
    assert ids[0] != ids[1]
    docs = stored(tmp_path)
    for tag, sid in zip("ab", ids):
        assert [d["name"] for d in docs[sid]] == [f"{tag}-0.png", f"{tag}-1.png", f"{tag}-2.png"]
        assert [d["regions"][0]["text"] for d in docs[sid]] == [f"{tag} edit 39", f"{tag} edit 37",
                                                                 f"{tag} edit 38"]
    assert reads > 0 and seen_errors == []
    con = sqlite3.connect(tmp_path / "htr-desktop.sqlite3")
    assert con.execute("SELECT count(*) FROM blobs").fetchone()[0] == 6  # the orphans went, no image of a page did


def test_two_windows_killed_while_typing_keep_both(tmp_path):
    """Two real window processes on one data folder, both killed with SIGKILL: each one's typing is restored."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    procs = {key: subprocess.Popen([sys.executable, "-c", TYPIST, str(tmp_path), key], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=env, cwd=os.getcwd()) for key in "ab"}
    typed: dict[str, list[tuple[float, int]]] = {}
    try:
        for proc in procs.values():
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
        time.sleep(3.5)
    finally:
        killed_at = time.time()
        for proc in procs.values():
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
    errors = {}
    for key, proc in procs.items():
        typed[key] = [(float(t), int(n)) for t, n in (ln.split() for ln in proc.stdout.read().splitlines() if ln)]
        errors[key] = proc.stderr.read()[-3000:]
    restored = {}
    opened = [session.Session.open(tmp_path / "session") for _ in range(2)]  # each claims one of the two
    for s in opened:
        pages = s.restore().pages
        assert len(pages) == 1, errors
        restored[pages[0].name] = pages[0].regions[0].text
        s.close()
    for key in "ab":
        must_have = max(n for t, n in typed[key] if t <= killed_at - 2.0)
        text = restored[f"letter-{key}.png"]
        assert set(text) == {key} and len(text) >= must_have
