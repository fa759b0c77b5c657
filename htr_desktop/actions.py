"""Every main action in one table: text, keyboard shortcut, icon, and the window method it calls."""

from __future__ import annotations

from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QStyle, QWidget

SP = QStyle.StandardPixmap
KS = QKeySequence.StandardKey

# name: (text, shortcut(s), standard icon or None, method on the window, status tip)
ACTIONS: dict[str, tuple[str, object, object, str, str]] = {
    "open": ("&Open…", KS.Open, SP.SP_DialogOpenButton, "open_files", "Open images (PNG, JPEG, TIFF, BMP, WebP)"),
    "open_folder": ("Open &folder…", "Ctrl+Shift+O", SP.SP_DirOpenIcon, "open_folder", "Open every image in a folder"),
    "paste": ("&Paste image", KS.Paste, None, "paste", "Paste an image from the clipboard"),
    "scan": ("&Scan…", "Ctrl+Shift+A", SP.SP_DriveCDIcon, "scan", "Acquire from a scanner or camera"),
    "export": ("&Export…", ["Ctrl+E", "Ctrl+S"], SP.SP_DialogSaveButton, "export",
               "Save the text as .txt, .json or .csv"),
    "batch": ("&Batch folder…", "Ctrl+B", SP.SP_FileDialogListView, "batch", "Recognize a whole folder to files"),
    "close_page": ("&Close image", KS.Close, SP.SP_DialogCloseButton, "close_page", "Close the current image"),
    "close_all": ("Close &all images", "Ctrl+Shift+W", None, "close_all", "Close every image"),
    "quit": ("&Quit", KS.Quit, None, "close", "Quit"),
    "copy": ("&Copy", KS.Copy, None, "copy_selection", "Copy the selected text (or all of it)"),
    "copy_all": ("Copy &all text", "Ctrl+Shift+C", None, "copy_all", "Copy the text of the whole image"),
    "delete_region": ("&Delete region", KS.Delete, SP.SP_TrashIcon, "delete_regions", "Delete the selected region"),
    "move_up": ("Move region &up", "Alt+Up", SP.SP_ArrowUp, "move_up", "Earlier in the reading order"),
    "move_down": ("Move region do&wn", "Alt+Down", SP.SP_ArrowDown, "move_down", "Later in the reading order"),
    "sort": ("&Sort in reading order", "Ctrl+Shift+R", None, "sort_regions", "Top to bottom, left to right"),
    "settings": ("Se&ttings…", [KS.Preferences, "Ctrl+,"], None, "show_settings",
                 "Model, decoder, preprocessing, clipboard"),
    "next_low": ("&Next doubtful word", ["F3", "Ctrl+J"], None, "next_low_word",
                 "Select the next word read with low confidence"),
    "detect": ("&Detect lines", "Ctrl+D", SP.SP_FileDialogDetailedView, "detect_lines",
               "Find the lines of the page and recognize them"),
    "recognize": ("&Recognize image", "F5", SP.SP_MediaPlay, "recognize_page", "Recognize the whole image"),
    "rerecognize": ("Re-recognize &regions", "Shift+F5", SP.SP_BrowserReload, "recognize_regions",
                    "Recognize every region again (keeps corrected texts)"),
    "cancel": ("&Cancel", "Esc", SP.SP_BrowserStop, "cancel", "Stop recognizing"),
    "zoom_in": ("Zoom &in", KS.ZoomIn, None, "zoom_in", "Zoom in"),
    "zoom_out": ("Zoom &out", KS.ZoomOut, None, "zoom_out", "Zoom out"),
    "fit": ("&Fit to window", "Ctrl+0", None, "fit", "Show the whole image"),
    "actual": ("&100 %", "Ctrl+1", None, "actual_size", "One image pixel per screen pixel"),
    "next_page": ("&Next image", "Ctrl+PgDown", SP.SP_ArrowForward, "next_page", "Next image"),
    "prev_page": ("&Previous image", "Ctrl+PgUp", SP.SP_ArrowBack, "prev_page", "Previous image"),
    "guide": ("&User guide", [KS.HelpContents, "F1"], SP.SP_DialogHelpButton, "show_guide", "How to use htr-desktop"),
    "about": ("&About htr-desktop", [], SP.SP_MessageBoxInformation, "show_about", "Versions and model figures"),
}


def build_actions(window: QWidget) -> dict[str, QAction]:
    """Create the actions on ``window`` and connect each to its method."""
    out: dict[str, QAction] = {}
    for name, (text, shortcut, icon, method, tip) in ACTIONS.items():
        action = QAction(text, window)
        if icon is not None:
            action.setIcon(window.style().standardIcon(icon))
        else:
            action.setIcon(QIcon())
        keys: list[QKeySequence] = []
        for key in shortcut if isinstance(shortcut, list) else [shortcut]:
            for seq in QKeySequence.keyBindings(key) if isinstance(key, KS) else [QKeySequence(key)]:
                if not seq.isEmpty() and seq not in keys:
                    keys.append(seq)  # a standard key has no binding on some platforms (Preferences on Linux)
        action.setShortcuts(keys)
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})")
        action.triggered.connect(getattr(window, method))
        window.addAction(action)
        out[name] = action
    return out
