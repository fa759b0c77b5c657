"""Work around a PySide6 6.12.0 bug: ``SignalInstance.emit()`` returns ``True`` without owning a reference.

Every signal emitted from Python then takes one reference away from ``True``. On Python 3.12+ ``True`` is immortal
and nothing happens; on 3.11 (this app's Python) ``True`` starts with only a few hundred to a few thousand
references, so after that many emits (at exit, or mid-session: progress signals of a batch) the interpreter aborts
with "Fatal Python error: bool_dealloc: deallocating True or False". ``guard_bool_refcounts`` detects the bug
with one test emit and, only then, gives ``True`` and ``False`` so many references that they can never be
released, which is what Python 3.12 does. The same PySide6 also takes a reference away from ``None`` each time Qt
calls a Python override that returns ``None`` (every ``paintEvent``, ``resizeEvent``...), so ``None`` is pinned too.
"""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)
PIN = 1 << 40  # references added: far more than any session emits
_state = {"checked": False}


class _Probe(QObject):
    ping = Signal()


def emit_steals_true() -> bool:
    """True when emitting a signal from Python lowers the reference count of ``True`` (the PySide6 bug)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    probe.ping.emit()
    return sys.getrefcount(True) < before


def guard_bool_refcounts() -> bool:
    """Pin ``True``/``False``/``None`` when this PySide6 has the refcount bug (once per process); True if pinned."""
    if _state["checked"]:
        return False
    _state["checked"] = True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or not emit_steals_true():
        return False
    import ctypes

    for obj in (True, False, None):
        ctypes.c_ssize_t.from_address(id(obj)).value += PIN  # ob_refcnt is the first field of every PyObject
    log.debug("PySide6 emit refcount bug detected: True/False/None pinned")
    return True
