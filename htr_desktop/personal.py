"""Learning the user's handwriting in the window: Confirm line, the sample count, and Adapt in the background."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QProgressDialog

if TYPE_CHECKING:
    from htr_desktop.corrections import Corrections
    from htr_desktop.main_window import MainWindow

log = logging.getLogger(__name__)
HINT_AT = 20  # samples after which the window suggests adapting (once per run)
ADAPT_MINUTES = 5.0


class AdaptJob(QObject):
    """Runs ``model.adapt.adapt`` in its own thread; reports through signals only."""

    progress = Signal(float, str)
    finished = Signal(object)  # AdaptResult
    failed = Signal(str)

    def __init__(self, samples: list[Any], out: Path, model: str | None, options: dict[str, Any]) -> None:
        super().__init__()
        self.samples, self.out, self.model, self.options = samples, out, model, options
        self._cancel = False

    def cancel(self) -> None:
        """Ask the job to stop at the next sample (nothing is installed)."""
        self._cancel = True

    @Slot()
    def run(self) -> None:
        """The whole adaptation; emits ``finished`` or ``failed``."""
        from model.adapt import AdaptError, AdaptOptions, Cancelled, adapt
        from model.bundle import ModelError

        try:
            result = adapt(self.samples, self.out, model=self.model, opts=AdaptOptions(**self.options),
                           progress=self.progress.emit, cancelled=lambda: self._cancel)
        except Cancelled:
            self.failed.emit("Adapting was cancelled; the model in use did not change.")
        except (AdaptError, ModelError, OSError, ValueError) as exc:
            self.failed.emit(f"Adapting failed: {exc}")
        except Exception as exc:  # noqa: BLE001 - the window must stay up; the log has the details
            log.exception("adaptation failed")
            self.failed.emit(f"Adapting failed unexpectedly: {exc}")
        else:
            self.finished.emit(result)


def models_folder(window: MainWindow) -> Path:
    """Where personal model bundles are kept (beside the session in the user's data folder)."""
    return Path(window.session_dir).parent / "models"


def describe_model(path: str, info: Any) -> str:
    """One line for Settings: which model is in use."""
    if info is None:
        return "bundled model" if not path else path
    adapted = getattr(info, "extra", {}).get("adapted_from")
    figures = getattr(info, "figures", {}).get("personal", {})
    if adapted:
        lines = figures.get("train_lines", "?")
        return f"personal model {info.version} (adapted from {adapted} on {lines} of your lines)"
    return f"{'bundled' if not path else 'chosen'} model {info.version}"


def describe_choices(result: Any) -> str:
    """What adapting chose for this hand besides the weights (a sentence, or "" when it kept every default)."""
    chosen = []
    if abs(result.stretch - 1.0) > 1e-6:
        chosen.append(f"lines read {result.stretch:g} times as wide")
    if "half weight" in result.decoder:
        chosen.append("the language model and word list at half weight")
    if result.personal_words is not None:
        chosen.append("your words added to the word list")
    return f"Chosen for your hand: {'; '.join(chosen)}. " if chosen else ""


class Personal(QObject):
    """The Adapt menu and its flow; owns the corrections store handle and the running job."""

    changed = Signal(int)  # sample count
    adapt_done = Signal(object)  # AdaptResult or str (a failure message)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._corrections: Corrections | None = None
        self.model_texts: dict[int, str] = {}  # region id -> the model's reading (before the user's edits)
        self.job_thread: QThread | None = None
        self.job: AdaptJob | None = None
        self.dialog: QProgressDialog | None = None
        self._hinted = False
        self.adapt_options: dict[str, Any] = {"minutes": ADAPT_MINUTES}  # model.adapt.AdaptOptions fields
        self.count_label = QLabel("")
        window.statusBar().addPermanentWidget(self.count_label)
        self.actions = self._build_actions()
        bar = window.menuBar()
        menus = [a for a in bar.actions() if a.menu() is not None]
        menu = QMenu("&Adapt", bar)
        bar.insertMenu(menus[-1], menu) if menus else bar.addMenu(menu)  # before Help
        for name in ("confirm", None, "review", "adapt", None, "bundled"):
            menu.addSeparator() if name is None else menu.addAction(self.actions[name])
        window.results.line_entered.connect(self.keep_line)
        window.workspace.region_updated.connect(self._remember_reading)
        window.workspace.regions_changed.connect(self._remember_page)
        window.workspace.recognized.connect(self._remember_page)
        self.refresh()

    def _build_actions(self) -> dict[str, QAction]:
        table = {
            "confirm": ("&Confirm line", "Ctrl+Return", self.confirm_line,
                        "Keep the selected line and its text as a sample of your handwriting"),
            "review": ("&Review samples…", None, self.review, "See, delete, export or import your samples"),
            "adapt": ("&Adapt to my handwriting…", None, self.start_adapt,
                      "Fine-tune the model on your samples, in the background"),
            "bundled": ("Use the &bundled model", None, self.use_bundled, "Go back to the model shipped with the app"),
        }
        out = {}
        for name, (text, key, slot, tip) in table.items():
            action = QAction(text, self.window)
            if key:
                action.setShortcut(QKeySequence(key))
            action.setStatusTip(tip)
            action.triggered.connect(slot)
            self.window.addAction(action)
            out[name] = action
        return out

    # --- samples -------------------------------------------------------------------------------------------
    @property
    def corrections(self) -> Corrections | None:
        """The corrections in this window's store (None while it is not open or cannot be written)."""
        from htr_desktop.corrections import Corrections

        session = self.window.autosave.session
        store = getattr(session, "store", None)
        if store is None or not getattr(store, "writable", True):
            return None
        if self._corrections is None or self._corrections.store is not store:
            try:
                self._corrections = Corrections(store)
            except Exception as exc:  # noqa: BLE001 - sqlite3 errors: the samples are unavailable, not fatal
                log.warning("corrections unavailable: %s", exc)
                return None
        return self._corrections

    def _remember_reading(self, page: Any, region: Any) -> None:
        if not region.edited and region.confidence is not None:
            self.model_texts[region.id] = region.text

    def _remember_page(self, page: Any) -> None:
        for region in getattr(page, "regions", []):
            self._remember_reading(page, region)

    def refresh(self) -> None:
        """Update the sample count in the status bar and the actions."""
        corrections = self.corrections
        n = corrections.count() if corrections is not None else 0
        self.count_label.setText(f"{n} line{'s' if n != 1 else ''} of your handwriting" if n else "")
        for name in ("adapt", "review", "confirm"):
            self.actions[name].setEnabled(corrections is not None and (name != "adapt" or self.job is None))
        self.actions["bundled"].setEnabled(bool(self.window.settings.model_path))
        self.changed.emit(n)
        if n >= HINT_AT and not self._hinted and not self.window.settings.model_path:
            self._hinted = True
            self.window.show_message(f"{n} lines of your handwriting are kept: Adapt ▸ Adapt to my handwriting "
                                     "teaches the model to read them.", "info")

    def confirm_line(self) -> None:
        """Keep the selected line (the crop the recognizer saw) with its current text."""
        if self.corrections is None:
            self.window.show_message("Samples cannot be kept: the data folder is not available.", "error")
            return
        ids = self.window.view.selected_ids()
        if not self.keep_line(ids[0] if ids else self.window.results.current):
            self.window.show_message("Select a line with text first (click its row or its box).", "warning")

    def keep_line(self, region_id: int | None) -> bool:
        """Keep this line of the current page as a sample (Enter in its row, or Confirm line); False: no such line."""
        from htr_desktop.reading import preprocess

        corrections = self.corrections
        page = self.window.workspace.current
        region = next((r for r in page.regions if r.id == region_id), None) if page is not None else None
        if corrections is None or page is None or region is None or not region.text.strip():
            return False
        try:
            crop = preprocess(page.crop(region.box), **self.window.settings.preprocessing)
            corrections.add(crop, region.text, model_text=self.model_texts.get(region.id, ""),
                                 source=page.source or page.name, box=tuple(region.box), kind=region.kind)
        except (ValueError, OSError, sqlite3.Error) as exc:
            self.window.show_message(f"The line could not be kept: {exc}", "error")
            return True  # there was a line; the message says why it is not kept
        self.refresh()
        self.window.statusBar().showMessage("Line kept as a sample of your handwriting", 3000)
        return True

    def review(self) -> None:
        """The samples dialog: review, delete, export, import."""
        from htr_desktop.samples_dialog import SamplesDialog

        corrections = self.corrections
        if corrections is not None:
            SamplesDialog(corrections, self.window).exec()
            self.refresh()

    # --- adapting ------------------------------------------------------------------------------------------
    def base_model(self) -> str | None:
        """The model to adapt from: the chosen one, unless it is itself personal (then the bundled one)."""
        path = self.window.settings.model_path
        if not path or Path(path).resolve().is_relative_to(models_folder(self.window).resolve()):
            return None
        return path

    def start_adapt(self) -> None:
        """Fine-tune in a background thread with a progress dialog and Cancel."""
        from model.adapt import MIN_HELD, MIN_TRAIN

        corrections = self.corrections
        if corrections is None or self.job is not None:
            return
        samples = corrections.samples()
        if len(samples) < MIN_HELD + MIN_TRAIN:
            self.window.show_message(f"Adapting needs at least {MIN_HELD + MIN_TRAIN} confirmed lines; "
                                     f"there are {len(samples)}. Confirm lines with Ctrl+Return.", "warning")
            return
        out = models_folder(self.window) / f"personal-{time.strftime('%Y%m%d-%H%M%S')}"
        self.job = AdaptJob(samples, out, self.base_model(), self.adapt_options)
        self.job_thread = QThread(self)
        self.job.moveToThread(self.job_thread)
        self.job_thread.started.connect(self.job.run)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._finished)
        self.job.failed.connect(self._finished)
        self.dialog = QProgressDialog("Adapting to your handwriting…", "Cancel", 0, 100, self.window)
        self.dialog.setWindowTitle("Adapt to my handwriting")
        self.dialog.setWindowModality(Qt.WindowModality.NonModal)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel)
        self.dialog.show()
        self.job_thread.start()
        self.refresh()

    def cancel(self) -> None:
        """Stop the running adaptation (the model in use does not change)."""
        if self.job is not None:
            self.job.cancel()
            if self.dialog is not None:
                self.dialog.setLabelText("Cancelling…")

    def _progress(self, fraction: float, message: str) -> None:
        if self.dialog is not None:
            self.dialog.setValue(int(100 * fraction))
            self.dialog.setLabelText(message)

    def _finished(self, outcome: Any) -> None:
        if self.job_thread is not None:
            self.job_thread.quit()
            self.job_thread.wait()
        self.job_thread, self.job = None, None
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
        if isinstance(outcome, str):
            self.window.show_message(outcome, "warning" if "cancel" in outcome else "error")
        elif outcome.installed:
            self._use(outcome.out)
            self.window.show_message(
                f"Your personal model is in use: on your {outcome.held_lines} lines, each kept aside in turn, the "
                f"error rate went from {100 * outcome.cer_before:.1f} % to {100 * outcome.cer_after:.1f} %. "
                f"{describe_choices(outcome)}Settings or Adapt ▸ Use the bundled model go back.", "info",
                seconds=0)  # the outcome of minutes of work stays until the user closes it
        else:
            self.window.show_message(
                f"The model in use did not change: the adapted one was not better on your lines, each kept aside "
                f"in turn ({100 * outcome.cer_before:.1f} % before, {100 * outcome.cer_after:.1f} % after).", "warning",
                seconds=0)
        self.refresh()
        self.adapt_done.emit(outcome)

    def _use(self, path: str) -> None:
        from htr_desktop.app import model_loader

        self.window.settings.set("model/path", path)
        self.window.model_label.setText("Loading model…")
        self.window.service.set_loader(model_loader(self.window.settings))

    def fall_back(self, message: str) -> bool:
        """A personal model that no longer loads gives way to the bundled one; False: the model is not personal."""
        path = self.window.settings.model_path
        if not path or not Path(path).resolve().is_relative_to(models_folder(self.window).resolve()):
            return False
        log.warning("personal model %s cannot be loaded: %s", path, message)
        self._use("")
        self.refresh()
        self.window.show_message(f"Your personal model cannot be loaded ({message}); the bundled model is in use "
                                 "again. Your samples are kept: Adapt ▸ Adapt to my handwriting makes a new one.",
                                 "warning")
        return True

    def use_bundled(self) -> None:
        """Go back to the bundled model."""
        self._use("")
        self.refresh()

    def shutdown(self) -> None:
        """Cancel a running job and wait for its thread (at quit)."""
        if self.job is not None and self.job_thread is not None:
            self.job.cancel()
            self.job_thread.quit()
            self.job_thread.wait(10000)
