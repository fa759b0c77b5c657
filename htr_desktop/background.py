"""Run one short blocking call (device listing, a scan) on Qt's thread pool; results come back as signals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)
_running: set[Call] = set()


class Call(QObject):
    """Emits ``done(result)`` or ``failed(message)`` in the GUI thread."""

    done = Signal(object)
    failed = Signal(str)

    def forget(self, *_args: object) -> None:
        """Let go of this call once it reported (connected last, so it runs after the callbacks)."""
        _running.discard(self)


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[], Any], call: Call, expected: tuple[type[BaseException], ...]) -> None:
        super().__init__()
        self.fn, self.call, self.expected = fn, call, expected

    def run(self) -> None:
        try:
            result = self.fn()
        except self.expected as exc:
            self._emit(self.call.failed, str(exc))
        except Exception as exc:
            log.exception("background call failed")
            self._emit(self.call.failed, f"unexpected error: {exc}")
        else:
            self._emit(self.call.done, result)

    @staticmethod
    def _emit(signal: Any, value: Any) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the application is shutting down; nobody is listening any more
            log.debug("background result dropped at shutdown")


def run(fn: Callable[[], Any], on_done: Callable[[Any], None], on_error: Callable[[str], None],
        expected: tuple[type[BaseException], ...] = (Exception,)) -> Call:
    """Call ``fn()`` off the GUI thread; ``on_done``/``on_error`` run in the GUI thread."""
    call = Call()
    _running.add(call)
    call.done.connect(on_done)
    call.failed.connect(on_error)
    call.done.connect(call.forget)
    call.failed.connect(call.forget)
    QThreadPool.globalInstance().start(_Runnable(fn, call, expected))
    return call
