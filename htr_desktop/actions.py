"""Every main action in one table: text, keyboard shortcuts, icon and status tip; the window binds callables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle, QWidget

SP = QStyle.StandardPixmap
KS = QKeySequence.StandardKey
Key = KS | str


@dataclass(frozen=True)
class ActionSpec:
    """How an action looks: text, shortcuts (standard keys or strings), standard icon, status tip."""

    text: str
    keys: tuple[Key, ...] = ()
    icon: SP | None = None
    tip: str = ""
    checkable: bool = False


ACTIONS: dict[str, ActionSpec] = {
    "open": ActionSpec("&Open…", (KS.Open,), SP.SP_DialogOpenButton, "Open images or PDFs"),
    "open_folder": ActionSpec("Open &folder…", ("Ctrl+Shift+O",), SP.SP_DirOpenIcon, "Open every image in a folder"),
    "paste": ActionSpec("&Paste image", (KS.Paste,), None, "Paste an image from the clipboard"),
    "scan": ActionSpec("&Scan…", ("Ctrl+Shift+A",), SP.SP_DriveCDIcon, "Acquire from a scanner or camera"),
    "export": ActionSpec("&Export…", ("Ctrl+E", "Ctrl+S"), SP.SP_DialogSaveButton,
                         "Save the current image's text as text, JSON, CSV, PAGE-XML or ALTO"),
    "export_all": ActionSpec("Export a&ll images…", ("Ctrl+Shift+E",), None, "Save the text of every open image"),
    "batch": ActionSpec("&Batch folder…", ("Ctrl+B",), SP.SP_FileDialogListView,
                        "Recognize a whole folder into an output folder"),
    "close_page": ActionSpec("&Close image", (KS.Close,), SP.SP_DialogCloseButton, "Close the current image"),
    "close_all": ActionSpec("Close &all images", ("Ctrl+Shift+W",), None, "Close every image"),
    "quit": ActionSpec("&Quit", (KS.Quit,), None, "Quit"),
    "undo": ActionSpec("&Undo", (KS.Undo,), None, "Undo the last change to the text or the boxes"),
    "redo": ActionSpec("&Redo", (KS.Redo, "Ctrl+Shift+Z"), None, "Redo what was undone"),
    "copy": ActionSpec("&Copy", (KS.Copy,), None, "Copy the selected text (or all of it)"),
    "copy_all": ActionSpec("Copy &all text", ("Ctrl+Shift+C",), None, "Copy the text of the whole image"),
    "delete_region": ActionSpec("&Delete box", (KS.Delete,), SP.SP_TrashIcon, "Delete the selected box"),
    "move_up": ActionSpec("Move box &up", ("Alt+Up",), SP.SP_ArrowUp, "Earlier in the reading order"),
    "move_down": ActionSpec("Move box do&wn", ("Alt+Down",), SP.SP_ArrowDown, "Later in the reading order"),
    "sort": ActionSpec("&Sort in reading order", ("Ctrl+Shift+R",), None, "Top to bottom, left to right"),
    "settings": ActionSpec("Se&ttings…", (KS.Preferences, "Ctrl+,"), None, "Model, decoder, preprocessing, PDF"),
    "detect": ActionSpec("&Detect lines", ("Ctrl+D",), SP.SP_FileDialogDetailedView,
                         "Find the lines of the page and recognize them"),
    "recognize": ActionSpec("&Recognize image", ("F5",), SP.SP_MediaPlay, "Recognize the whole image"),
    "rerecognize": ActionSpec("Re-recognize &boxes", ("Shift+F5",), SP.SP_BrowserReload,
                              "Recognize every box again (keeps corrected texts)"),
    "cancel": ActionSpec("&Cancel", ("Esc",), SP.SP_BrowserStop, "Stop recognizing"),
    "next_low": ActionSpec("&Next doubtful word", ("F3", "Ctrl+J"), None,
                           "Select the next word read with low confidence"),
    "draw_mode": ActionSpec("Dra&w boxes", (), None, "Every drag draws a box, also inside a line (Shift+drag: once)",
                            checkable=True),
    "zoom_in": ActionSpec("Zoom &in", (KS.ZoomIn,), None, "Zoom in"),
    "zoom_out": ActionSpec("Zoom &out", (KS.ZoomOut,), None, "Zoom out"),
    "fit": ActionSpec("&Fit to window", ("Ctrl+0",), None, "Show the whole image"),
    "actual": ActionSpec("&100 %", ("Ctrl+1",), None, "One image pixel per screen pixel"),
    "next_page": ActionSpec("&Next image", ("Ctrl+PgDown",), SP.SP_ArrowForward, "Next image"),
    "prev_page": ActionSpec("&Previous image", ("Ctrl+PgUp",), SP.SP_ArrowBack, "Previous image"),
    "guide": ActionSpec("&User guide", (KS.HelpContents, "F1"), SP.SP_DialogHelpButton, "How to use htr-desktop"),
    "about": ActionSpec("&About htr-desktop", (), SP.SP_MessageBoxInformation, "Versions and model figures"),
}

# Where the actions appear (None: a separator) and which need an open image
MENUS: dict[str, list[str | None]] = {
    "&File": ["open", "open_folder", "recent", "paste", "scan", None, "export", "export_all", "batch", None,
              "close_page", "close_all", None, "quit"],
    "&Edit": ["undo", "redo", None, "copy", "copy_all", None, "delete_region", "move_up", "move_down", "sort", None,
              "settings"],
    "&Recognize": ["detect", "recognize", "rerecognize", "cancel", None, "next_low"],
    "&View": ["draw_mode", None, "zoom_in", "zoom_out", "fit", "actual", None, "next_page", "prev_page"],
    "&Help": ["guide", "about"],
}
TOOLBAR = ["open", "scan", "detect", "export", None, "undo", "redo", "draw_mode", None, "copy_all", None, "fit",
           "actual"]
NEED_PAGE = ("detect", "recognize", "export", "export_all", "close_page", "close_all", "copy_all", "fit", "actual",
             "zoom_in", "zoom_out", "rerecognize", "sort", "next_low")


def key_sequences(keys: tuple[Key, ...]) -> list[QKeySequence]:
    """The shortcuts, without duplicates; a standard key without a binding on this platform is skipped."""
    out: list[QKeySequence] = []
    for key in keys:
        for seq in QKeySequence.keyBindings(key) if isinstance(key, KS) else [QKeySequence(key)]:
            if not seq.isEmpty() and seq not in out:
                out.append(seq)
    return out


def style_action(action: QAction, spec: ActionSpec, widget: QWidget) -> QAction:
    """Give ``action`` the text, shortcuts, icon and tips of ``spec``."""
    action.setText(spec.text)
    action.setIcon(widget.style().standardIcon(spec.icon) if spec.icon is not None else QIcon())
    action.setShortcuts(key_sequences(spec.keys))
    action.setCheckable(spec.checkable)
    action.setStatusTip(spec.tip)
    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    action.setToolTip(f"{spec.tip} ({keys})" if keys else spec.tip)
    widget.addAction(action)
    return action


def build_actions(window: QWidget, slots: Mapping[str, Callable[[], object]],
                  made: Mapping[str, QAction] | None = None) -> dict[str, QAction]:
    """Every action of the table on ``window``, each triggering its slot; ``made`` are actions created elsewhere
    (undo/redo from the undo group) that only take the table's look."""
    out: dict[str, QAction] = {}
    for name, spec in ACTIONS.items():
        if made and name in made:
            out[name] = style_action(made[name], spec, window)
            continue
        action = style_action(QAction(window), spec, window)
        slot = slots[name]
        if spec.checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _checked=False, slot=slot: slot())
        out[name] = action
    return out


def fill_menus(window: QMainWindow, actions: Mapping[str, QAction], fill_recent: Callable[[QMenu], None]) -> QMenu:
    """The menu bar and the toolbar from MENUS and TOOLBAR; returns the Open recent menu (filled when shown)."""
    recent = QMenu("Open &recent", window)
    recent.aboutToShow.connect(lambda: fill_recent(recent))
    for title, names in MENUS.items():
        menu = window.menuBar().addMenu(title)
        for name in names:
            if name is None:
                menu.addSeparator()
            elif name == "recent":
                menu.addMenu(recent)
            else:
                menu.addAction(actions[name])
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for name in TOOLBAR:
        if name is None:
            toolbar.addSeparator()
        else:
            toolbar.addAction(actions[name])
    return recent
