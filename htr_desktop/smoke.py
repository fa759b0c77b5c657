"""``htr-desktop --smoke-test`` (hidden): open the main window, quit once it is shown (packaging check)."""

from __future__ import annotations

import time

TIMEOUT_S = 60.0
POLL_MS = 100


def run_smoke_test() -> int:
    """Start the app as usual; close the main window once visible (exit 0), exit 3 if none shows in time."""
    import sys

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    from htr_desktop.app import run_app

    app = QApplication.instance() or QApplication(sys.argv[:1])
    started = time.monotonic()

    def poll() -> None:
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()]
        if shown:
            print(f"smoke-test: main window shown ({QApplication.platformName()}): {shown[0].windowTitle()!r} "
                  f"after {time.monotonic() - started:.2f} s", flush=True)
            shown[0].close()  # the window's own close path stops its worker thread, then the app quits
        elif time.monotonic() - started > TIMEOUT_S:
            print(f"smoke-test: no main window after {TIMEOUT_S:.0f} s", flush=True)
            app.exit(3)
        else:
            QTimer.singleShot(POLL_MS, poll)

    QTimer.singleShot(POLL_MS, poll)
    return run_app([])
