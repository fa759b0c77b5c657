"""Screenshots of the real window for the README: a handwritten-style page, detected lines, recognized text.

docs/screenshot-page.png: the whole window after Detect lines, one line selected. docs/screenshot-line.png: the
image zoomed on that line, the text cursor in its least confident word (its box marked on the image).
docs/screenshot-alternatives.png: the right-click menu on that word (its other readings).

Run under Xvfb: ``xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python -m benchmarks.gui_screenshots``.
The page is rendered with a Debian handwriting font (evaluation-only fonts: never used for training).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

DOCS = Path(__file__).resolve().parent.parent / "docs"
FONTS = ["/usr/share/fonts/truetype/femkeklaver/femkeklaver.ttf", "/usr/share/fonts/truetype/breip/Breip.ttf"]
LETTER = ["Dear Margaret,", "thank you for the letter and", "the photographs of the old house.",
          "We hope to visit in the spring", "when the garden is in bloom.", "With love, Anna"]


def render_letter(path: Path) -> None:
    """A cream page with slightly wavy handwritten lines."""
    font_file = next((f for f in FONTS if Path(f).exists()), None)
    font = ImageFont.truetype(font_file, 46) if font_file else ImageFont.load_default()
    page = Image.new("L", (1100, 760), 238)
    draw = ImageDraw.Draw(page)
    rng = np.random.default_rng(3)
    for i, line in enumerate(LETTER):
        draw.text((70 + int(rng.integers(0, 30)), 60 + i * 108), line, fill=int(rng.integers(25, 60)), font=font)
    page.save(path)


def _line_close_up(window: object, region: object, settle: object) -> None:
    """Zoom on ``region`` and put the text cursor in its least confident word; save docs/screenshot-line.png."""
    from PySide6.QtCore import QRectF, Qt

    row = window.results.rows[region.id]
    window.activateWindow()  # Xvfb has no window manager to give the window focus
    row.edit.setFocus()
    settle(0.3)
    spans = row.edit.spans
    if region.words and any(spans):
        worst = min((i for i, s in enumerate(spans) if s), key=lambda i: region.words[i].confidence)
        cursor = row.edit.textCursor()
        cursor.setPosition(spans[worst][0] + 1)
        row.edit.setTextCursor(cursor)
    x, y, w, h = region.box
    left = min(r.box[0] for r in window.workspace.current.regions) - 40  # room for the numbers left of the boxes
    window.view.fitInView(QRectF(left, y - 1.2 * h, x + 1.06 * w - left, 3.4 * h), Qt.AspectRatioMode.KeepAspectRatio)
    window.view.fit_mode = False
    window.view.zoom_changed.emit(window.view.zoom)
    settle(0.5)
    print(f"focus in the row: {row.edit.hasFocus()}; marked word: {window.view.items_by_id[region.id].active_word}")
    window.grab().save(str(DOCS / "screenshot-line.png"))
    print("saved docs/screenshot-line.png")
    _alternatives_menu(window, region, settle)


def _alternatives_menu(window: object, region: object, settle: object) -> None:
    """Right-click the least confident word: its other readings; save docs/screenshot-alternatives.png."""
    from PySide6.QtGui import QGuiApplication

    edit = window.results.rows[region.id].edit
    spans = [s for s in edit.spans if s]
    if not spans:
        return
    worst = min((i for i, s in enumerate(edit.spans) if s), key=lambda i: region.words[i].confidence)
    cursor = edit.textCursor()
    cursor.setPosition(edit.spans[worst][0] + 1)
    point = edit.cursorRect(cursor).center()
    menu = edit.context_menu(point)
    menu.popup(edit.viewport().mapToGlobal(point))
    settle(0.5)
    frame = window.frameGeometry()
    shot = QGuiApplication.primaryScreen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
    shot.save(str(DOCS / "screenshot-alternatives.png"))
    print(f"saved docs/screenshot-alternatives.png ({len(menu.actions())} menu entries)")
    menu.close()


def main() -> int:
    """Open the letter in the real window, detect lines, recognize, save docs/screenshot-*.png."""
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
    window = MainWindow(settings, model_loader(settings), tmp / "session")
    window.resize(1360, 820)
    window.show()
    window.start([str(letter)])

    def settle(seconds: float, until=lambda: True) -> None:
        end = time.time() + seconds
        while time.time() < end or not until():
            QCoreApplication.processEvents()
            time.sleep(0.01)
            if time.time() > end + 60:
                break

    settle(1.0, lambda: window.workspace.current is not None and window.workspace.current.regions
           and not window.service.busy)
    page = window.workspace.current
    if page.regions:
        middle = page.regions[len(page.regions) // 2]
        window.view.highlight(middle.id)
        window.results.highlight(middle.id)
    settle(0.5)
    DOCS.mkdir(exist_ok=True)
    window.grab().save(str(DOCS / "screenshot-page.png"))
    print(f"{len(page.regions)} regions; platform {app.platformName()}; saved docs/screenshot-page.png")
    if page.regions:
        _line_close_up(window, middle, settle)
    window.close()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    sys.exit(main())
