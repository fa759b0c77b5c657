"""Ctrl+C in the headless commands: one clear line and exit code 130, never a traceback or a half-printed result."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

EXIT_CODE = 130  # 128 + SIGINT: what shells report for a command stopped by Ctrl+C
_state = {"held": 0, "pending": False}


def _on_sigint(signum: int, frame: object) -> None:
    if _state["held"]:
        _state["pending"] = True
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Within: Ctrl+C raises KeyboardInterrupt, except in ``held()``; an ignored Ctrl+C (a background job) stays so."""
    if threading.current_thread() is not threading.main_thread() or (
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def hold() -> None:
    """Block Ctrl+C (as the packaged executable does from its start, packaging/rthook_sigint.py) until
    ``let_through()``: ``recognize`` holds it while its modules and the model load."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def let_through() -> None:
    """Unblock Ctrl+C, held by ``hold()`` or by the packaged executable's runtime hook; a held one comes now."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextlib.contextmanager
def held() -> Iterator[None]:
    """A block Ctrl+C does not cut in two (a printed result, an input's files; in a worker process, nor the pool's
    ``stop_now``): KeyboardInterrupt comes when the block ends."""
    from model.pool import unstoppable

    _state["held"] += 1
    try:
        with unstoppable():
            yield
    finally:
        _state["held"] -= 1
    if not _state["held"] and _state["pending"]:
        _state["pending"] = False
        raise KeyboardInterrupt


def pending() -> bool:
    """Whether a Ctrl+C came during the ``held()`` block running now (it comes when the block ends)."""
    return bool(_state["pending"])


def caused_by_ctrl_c(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a Ctrl+C: pybind11 modules (LiteRT's) turn one raised while they initialise into
    ``ImportError("initialization failed")`` with the KeyboardInterrupt as its cause."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def report(command: str, detail: str = "") -> int:
    """Print the one line saying ``htr-desktop <command>`` was interrupted; returns the exit code 130."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # stderr closed: the exit code still says it
        print(f"htr-desktop {command}: interrupted{detail}", file=sys.stderr, flush=True)
    return EXIT_CODE
