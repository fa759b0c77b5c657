"""PyInstaller runtime hook, run before the others: Ctrl+C is held (blocked) until the entry point can report it.

A Ctrl+C while the frozen interpreter still runs PyInstaller's own runtime hooks raised KeyboardInterrupt there,
with a traceback; ``htr_desktop.__main__`` lets it through once it can end the command with one line and exit code
130 (``recognize``: once its modules and the model are loaded, ``htr_desktop.cli``). It uses the built-in
``_signal`` module: importing ``signal`` (and ``enum`` with it) took long enough for a Ctrl+C to land in it. One
before this hook runs still gets the interpreter's traceback (a known gap).
"""

import _signal

if hasattr(_signal, "pthread_sigmask"):
    _signal.pthread_sigmask(_signal.SIG_BLOCK, {_signal.SIGINT})
