"""QApplication set-up and ``run_app``: the window appears at once; model loading and files follow off a timer."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from htr_desktop import __version__
from htr_desktop.settings import Settings

if TYPE_CHECKING:
    from htr_desktop.worker import Loader

log = logging.getLogger(__name__)
BENCH_ENV = "HTR_DESKTOP_BENCH"  # a file to append start-up timings to (benchmarks/gui_startup.py)


def model_loader(settings: Settings) -> Loader:
    """A loader for the model chosen in Settings (bundled by default); called in the worker thread."""
    path, decoder = settings.model_path or None, settings.decoder

    def load() -> Any:
        from model.pool import RecognizerPool

        pool = RecognizerPool(path, decoder=decoder)  # one recognizer per core (in-process on one core)
        try:
            pool.start()
        except BaseException:
            pool.close()
            raise
        return pool

    return load


def app_icon() -> QIcon:
    """The window icon from resources/icons (importlib.resources, so it works in a PyInstaller bundle)."""
    from importlib import resources

    icon = QIcon()
    for name in ("htr-desktop.svg", "htr-desktop-256.png"):
        file = resources.files("resources") / "icons" / name
        if file.is_file():
            data = file.read_bytes()
            from PySide6.QtGui import QPixmap

            pixmap = QPixmap()
            if pixmap.loadFromData(data):
                icon.addPixmap(pixmap)
    return icon


def _bench(event: str) -> None:
    path = os.environ.get(BENCH_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"event": event, "time": time.time(), "cpu": time.process_time()}) + "\n")


class _Benchmark(QObject):
    """Writes 'shown', 'painted' (the window's first paint) and 'first_text' timestamps, then quits (only when
    HTR_DESKTOP_BENCH is set)."""

    def __init__(self, window: Any, files: list[str]) -> None:
        super().__init__(window)
        self.window = window
        self.files = files
        self.painted = False
        window.workspace.recognized.connect(self._recognized)
        window.installEventFilter(self)
        if not files:
            QTimer.singleShot(10_000, window.close)  # a platform that never paints still ends

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """The window's first paint: on screen (xcb) the window was mapped and exposed."""
        if event.type() == QEvent.Type.Paint and not self.painted:
            self.painted = True
            _bench("painted")
            if not self.files:
                QTimer.singleShot(0, self.window.close)
        return False

    def _recognized(self, page: Any) -> None:
        if any(r.text for r in page.regions) or page.regions:
            _bench("first_text")
            QTimer.singleShot(0, self.window.close)


def report_unexpected_errors(window: Any) -> None:
    """A bug in an event handler (which Qt would only print on a console nobody sees) is logged and said in the
    window's message bar: the action did not happen; the work stays (it is saved as usual)."""
    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        log.error("unexpected error", exc_info=(kind, value, tb))
        try:
            window.show_message(f"Something went wrong ({kind.__name__}: {value}); that action was not completed. "
                                "Your images and texts are kept.", "error")
        except Exception:  # noqa: BLE001 - the window itself is broken or gone: the log has it
            log.exception("cannot show the error")

    sys.excepthook = hook


def run_app(args: list[str]) -> int:
    """Open the window (files in ``args`` are opened once it is shown); returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    QCoreApplication.setOrganizationName("htr-desktop")
    QCoreApplication.setApplicationName("htr-desktop")
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName("htr-desktop")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0],
                                                                             *[a for a in args if a.startswith("-")]])
    app.setWindowIcon(app_icon())
    from htr_desktop.main_window import MainWindow

    settings = Settings()
    window = MainWindow(settings, model_loader(settings))
    files = [a for a in args if not a.startswith("-")]
    if os.environ.get(BENCH_ENV):
        _Benchmark(window, files)
    report_unexpected_errors(window)
    window.show()
    _bench("shown")

    def deferred() -> None:
        _bench("open_started")
        window.start(files)

    QTimer.singleShot(0, deferred)
    return app.exec()
