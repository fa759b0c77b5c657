"""Screenshot for the README's "Teach it your handwriting": the window once it has adapted to confirmed lines.

Run under Xvfb: ``xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python -m benchmarks.adapt_screenshot [MINUTES]``
(the adaptation's time budget, default 2; it runs for real, so the figures shown are measured).
The letter and the extra samples are rendered with a Debian handwriting font (evaluation-only, never trained on).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.gui_screenshots import DOCS, LETTER, render_letter

SAMPLES = Path.home() / ".cache/htr-desktop/adapt-eval/font-femkeklaver/adapt"  # benchmarks.adapt_writers prepare


def small(path: Path) -> None:
    """Rewrite the PNG with 128 colours (a third of the bytes; the window's few flat colours survive)."""
    from PIL import Image

    with Image.open(path) as image:
        rgb = image.convert("RGB")
    rgb.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)


def main() -> int:
    """Detect lines, confirm them, import samples, adapt; save docs/screenshot-adapt.png showing the outcome."""
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    from htr_desktop.app import app_icon, model_loader
    from htr_desktop.main_window import MainWindow
    from htr_desktop.settings import Settings

    tmp = Path(tempfile.mkdtemp())
    letter = tmp / "letter.png"
    render_letter(letter)
    app = QApplication(sys.argv[:1])
    app.setWindowIcon(app_icon())
    settings = Settings(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    settings.set("recognition/layout", "page")
    window = MainWindow(settings, model_loader(settings), tmp / "data" / "session")
    window.resize(1360, 820)
    window.move(0, 0)
    window.show()
    window.start([str(letter)])

    def settle(seconds: float, until=lambda: True, limit: float = 120) -> None:
        end = time.time() + seconds
        while time.time() < end or not until():
            QCoreApplication.processEvents()
            time.sleep(0.01)
            if time.time() > end + limit:
                break

    settle(1.0, lambda: window.workspace.current is not None and window.workspace.current.regions
           and not window.service.busy)
    page = window.workspace.current
    for number, region in enumerate(page.regions):
        if len(page.regions) == len(LETTER):
            window.results.rows[region.id].edit.setPlainText(LETTER[number])  # the user's corrections, typed
            settle(0.2)
        window.results.highlight(region.id)
        window.view.highlight(region.id)
        window.personal.confirm_line()
    if SAMPLES.is_dir():
        window.personal.corrections.import_folder(SAMPLES)
    window.personal.refresh()
    window.personal.adapt_options = {"minutes": float(sys.argv[1]) if len(sys.argv) > 1 else 2.0}
    outcome: list[object] = []
    window.personal.adapt_done.connect(outcome.append)
    window.personal.start_adapt()
    settle(10.0)
    dialog = window.personal.dialog
    if dialog is not None:
        dialog.move(window.x() + 260, window.y() + 660)  # over the empty foot of the page, not the lines
    print(dialog.labelText() if dialog is not None else "no progress dialog")
    settle(1.0, lambda: bool(outcome), limit=900)
    settle(1.0, lambda: window.model_label.text().startswith("Model"))  # the personal model, loaded
    settle(9.0)  # the status bar's copy of the message is gone; the message bar keeps it
    DOCS.mkdir(exist_ok=True)
    shot = app.primaryScreen().grabWindow(0, 0, 0, 1360, 820)
    shot.save(str(DOCS / "screenshot-adapt.png"))
    small(DOCS / "screenshot-adapt.png")
    print(f"{window.personal.corrections.count()} samples; {outcome[0] if outcome else 'no outcome'}; "
          f"{window.messages.label.text()}; saved docs/screenshot-adapt.png")
    window.close()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    sys.exit(main())
