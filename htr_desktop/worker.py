"""Recognition off the GUI thread: a QObject in a QThread that loads the model once, lazily, and emits signals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from htr_desktop.qt_fixes import guard_bool_refcounts

if TYPE_CHECKING:  # numpy, OpenCV and the model are imported in the worker thread, after the window shows
    import numpy as np

    from htr_desktop.reading import ChunkedRecognizer

log = logging.getLogger(__name__)

Loader = Callable[[], Any]  # () -> a model.recognizer.Recognizer (or a test double); raises ModelError


@dataclass
class Task:
    """One unit of work: recognize given crops of a page, or the whole page (segmented by model.page)."""

    page_id: int
    gray: np.ndarray | None = None  # whole page when set
    crops: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (region_id, pixels)
    layout: str = "auto"
    job: Callable[[ChunkedRecognizer], Any] | None = None  # any other work that needs the model (batch export)
    result: Any = None
    generation: int = 0


class Generation:
    """A counter shared with the worker thread: tasks from an older generation were cancelled."""

    def __init__(self) -> None:
        self.value = 0

    def __call__(self) -> int:
        """The current generation."""
        return self.value


class _Worker(QObject):
    """Lives in the worker thread; every slot runs there."""

    model_ready = Signal(object)  # ModelInfo
    model_failed = Signal(str)
    region_done = Signal(int, int, object)  # page_id, region_id, Region (text/confidence/words)
    page_done = Signal(int, object)  # page_id, list[Region]
    task_progress = Signal(int, int)  # items done / total in the current task
    task_done = Signal(object, str)  # Task, error message ("" when fine, "cancelled" when cancelled)

    def __init__(self, loader: Loader, generation: Callable[[], int]) -> None:
        super().__init__()
        self.loader = loader
        self.generation = generation
        self.recognizer: Any = None
        self.error = ""

    def _model(self) -> Any:
        from model.bundle import ModelError

        if self.recognizer is None and not self.error:
            try:
                self.recognizer = self.loader()
                self.model_ready.emit(self.recognizer.info)
            except (ModelError, ValueError, OSError) as exc:
                self.error = str(exc)
                log.warning("model cannot be loaded: %s", exc)
                self.model_failed.emit(self.error)
        return self.recognizer

    @Slot(object)
    def set_loader(self, loader: Loader) -> None:
        """Use another model/decoder from the next task on (loaded lazily)."""
        self.release()
        self.loader, self.recognizer, self.error = loader, None, ""

    def release(self) -> None:
        """Let go of the recognizer (a worker pool stops its processes)."""
        recognizer, self.recognizer = self.recognizer, None
        close = getattr(recognizer, "close", None)
        if close is not None:
            close()

    @Slot()
    def load(self) -> None:
        """Load the model now (called once at start-up, in the background)."""
        self._model()

    @Slot(object)
    def run(self, task: Task) -> None:
        """Recognize one task, unless it was cancelled before it started."""
        from htr_desktop.reading import Cancelled, ChunkedRecognizer, read_whole, region_from
        from model.imageio import ImageError

        def stop() -> bool:
            return task.generation != self.generation()

        if stop():
            self.task_done.emit(task, "cancelled")
            return
        recognizer = self._model()
        if recognizer is None:
            self.task_done.emit(task, no_model_text(self.error))
            return
        chunked = ChunkedRecognizer(recognizer, stop, self.task_progress.emit)
        try:
            if task.job is not None:
                task.result = task.job(chunked)
            if task.gray is not None:
                self.page_done.emit(task.page_id, read_whole(task.gray, chunked, task.layout))
            for region_id, crop in task.crops:
                (pred,) = chunked.recognize([crop])
                # word boxes relative to the crop; the workspace moves them onto the page
                self.region_done.emit(task.page_id, region_id, region_from(pred, crop))
        except Cancelled:
            self.task_done.emit(task, "cancelled")
            return
        except (ImageError, ValueError) as exc:
            self.task_done.emit(task, str(exc))
            return
        except OSError as exc:  # a batch's file that cannot be written: in plain words, no errno
            from htr_desktop.export import write_error

            where = exc.filename if isinstance(exc.filename, str) else ""
            self.task_done.emit(task, f"cannot write {Path(where).name}: {write_error(exc, where)}" if where
                                else exc.strerror or str(exc))
            return
        except Exception as exc:  # a model failure must never take the window down
            log.exception("recognition failed")
            self.task_done.emit(task, f"recognition failed: {exc}")
            return
        self.task_done.emit(task, "")


def no_model_text(error: str) -> str:
    """What the window says when the model cannot be loaded (at start and for each image it cannot read)."""
    return (f"The model cannot be loaded: {error}. Images can still be opened and edited; choose a model folder in "
            "Settings.")


class RecognitionService(QObject):
    """GUI-side front of the worker thread: submit tasks, cancel, and follow progress through signals."""

    model_ready = Signal(object)
    model_failed = Signal(str)
    region_done = Signal(int, int, object)
    page_done = Signal(int, object)
    progress = Signal(int, int)  # tasks done, tasks total (0, 0 when idle)
    task_failed = Signal(int, str)  # page_id, message
    job_done = Signal(object)  # Task with .result, for tasks that carried a job
    item_progress = Signal(int, int)  # crops done / total within the running task
    file_progress = Signal(int, int)  # files done / total within a batch job (emitted by the job itself)
    idle = Signal()
    _submit = Signal(object)
    _load = Signal()
    _set_loader = Signal(object)

    def __init__(self, loader: Loader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        guard_bool_refcounts()  # before the first emit
        self._generation = Generation()
        self.total = 0
        self.done = 0
        self.info: Any = None
        self.error = ""
        self.failed = 0  # tasks that failed since the service was last idle
        self.worker_thread = QThread()
        self.worker_thread.setObjectName("recognition")
        self.worker = _Worker(loader, self._generation)
        self.worker.moveToThread(self.worker_thread)
        self._submit.connect(self.worker.run)
        self._load.connect(self.worker.load)
        self._set_loader.connect(self.worker.set_loader)
        self.worker.model_ready.connect(self._on_ready)
        self.worker.model_failed.connect(self._on_failed)
        self.worker.region_done.connect(self.region_done)
        self.worker.page_done.connect(self.page_done)
        self.worker.task_done.connect(self._on_task_done)
        self.worker.task_progress.connect(self.item_progress)
        app = QCoreApplication.instance()
        if app is not None:  # app.quit()/exit() with the window still open must not leave the thread running
            app.aboutToQuit.connect(self.shutdown)
        self.worker_thread.start()

    def _on_ready(self, info: Any) -> None:
        self.info, self.error = info, ""
        self.model_ready.emit(info)

    def _on_failed(self, message: str) -> None:
        self.info, self.error = None, message
        self.model_failed.emit(message)

    def preload(self) -> None:
        """Load the model in the background now."""
        self._load.emit()

    def set_loader(self, loader: Loader) -> None:
        """Switch model or decoder; the next task loads it."""
        self.info = None
        self._set_loader.emit(loader)
        self._load.emit()

    @property
    def busy(self) -> bool:
        """True while tasks are queued or running."""
        return self.done < self.total

    def submit(self, task: Task) -> None:
        """Queue a task (runs after the ones already queued)."""
        task.generation = self._generation.value
        self.total += 1
        self.progress.emit(self.done, self.total)
        self._submit.emit(task)

    def cancel(self) -> None:
        """Drop every queued task and stop the running one at its next chunk."""
        if self.busy:
            self._generation.value += 1

    def _on_task_done(self, task: Task, error: str) -> None:
        self.done += 1
        if error and error != "cancelled":
            self.failed += 1
            self.task_failed.emit(task.page_id, error)
        elif task.job is not None and not error:
            self.job_done.emit(task)
        if self.done >= self.total:
            self.done = self.total = 0
            self.progress.emit(0, 0)
            self.idle.emit()
            self.failed = 0
        else:
            self.progress.emit(self.done, self.total)

    def shutdown(self) -> None:
        """Cancel everything and stop the thread (waits for the running chunk); safe to call twice."""
        self.cancel()
        self.worker_thread.quit()
        if not self.worker_thread.wait(30_000):
            log.warning("the recognition thread did not stop within 30 s")
        else:
            self.worker.release()
