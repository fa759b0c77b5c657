"""PyInstaller runtime hook, run before the others: Ctrl+C is held (blocked) until the entry point can report it.

A Ctrl+C while the frozen interpreter still runs PyInstaller's own runtime hooks (its first ~50 ms) raised
KeyboardInterrupt there, with a traceback; ``htr_desktop.__main__`` lets it through once it can end the command
with one line and exit code 130.
"""

import signal

if hasattr(signal, "pthread_sigmask"):
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
