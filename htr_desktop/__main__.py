"""Entry point: the desktop app by default; ``recognize`` runs headless."""

from __future__ import annotations

import sys

COMMANDS = ("recognize", "serve", "adapt")


def _exit_now(code: int) -> None:
    """End this process with ``code`` once the output is flushed, without tearing down the interpreter.

    Freeing the model, the word list and every module at exit took 20-50 ms of a command's start-up-included time
    (twice that after forking workers, whose shared pages each need a fault to write again).
    """
    import logging
    import os

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # e.g. a closed pipe: what could be written was
            code = code or 1
    os._exit(code)


def _headless(command: str, argv: list[str], hold: bool = False) -> int:
    """Run ``recognize`` or ``serve``; a Ctrl+C at any point (even while importing) ends it with one line, code 130.

    ``hold`` (the command is this process): ``recognize`` holds a Ctrl+C until its imports and the model's loading
    are done (``htr_desktop.cli`` lets it through), because one landing in a compiled module's start-up (numpy's,
    LiteRT's) came out as that module's ImportError or SystemError, with a traceback, or was lost."""
    try:
        from htr_desktop import interrupt

        if hold:
            interrupt.hold()
        else:
            interrupt.let_through()
        if command == "serve":
            from htr_desktop.serve import run_serve

            return run_serve(argv)
        from htr_desktop.cli import run_recognize

        return run_recognize(argv)
    except KeyboardInterrupt:
        from htr_desktop.interrupt import report

        return report(command)
    except ImportError as exc:  # Ctrl+C inside a compiled module's initialisation comes out as an ImportError
        from htr_desktop.interrupt import caused_by_ctrl_c, report

        if not caused_by_ctrl_c(exc):
            raise
        return report(command)


def main(argv: list[str] | None = None) -> int:
    """``htr-desktop [--version] [recognize ...] [adapt ...] [FILES...]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["recognize"], ["serve"]):
        code = _headless(args[0], args[1:], hold=argv is None and args[0] == "recognize")
        if argv is None:  # this process is the command (not a caller's function call)
            _exit_now(code)
        return code
    from htr_desktop.interrupt import let_through

    let_through()  # held from the packaged executable's start (packaging/rthook_sigint.py) until here
    if args[:1] == ["adapt"]:
        from htr_desktop.adapt_cli import run_adapt

        return run_adapt(args[1:])
    if args[:1] in (["--version"], ["-V"]):
        from htr_desktop.cli import print_version

        return print_version()
    if args[:1] in (["-h"], ["--help"]):
        print("usage: htr-desktop [FILE...]            open the window (optionally with images)\n"
              "       htr-desktop recognize --help     recognize images headless\n"
              "       htr-desktop serve --help         a local HTTP API (loopback only, token)\n"
              "       htr-desktop adapt --help         teach a model your handwriting (headless)\n"
              "       htr-desktop --version            app and model versions")
        return 0
    if args[:1] == ["--smoke-test"]:  # hidden: the packaged executable's GUI start check (scripts/smoke_bundle.py)
        from htr_desktop.smoke import run_smoke_test

        return run_smoke_test()
    if problem := _cannot_open_window(args):
        print(f"htr-desktop: {problem}", file=sys.stderr)
        return 2
    from htr_desktop.app import run_app

    return run_app(args)


def _cannot_open_window(args: list[str]) -> str:
    """Why the window cannot open for ``args`` ("" if it can): a mistyped command, or no display to show it on."""
    import difflib
    import os

    if args and not args[0].startswith("-") and not os.path.exists(args[0]):
        close = difflib.get_close_matches(args[0], COMMANDS, n=1, cutoff=0.7)
        if close:
            return f"unknown command {args[0]!r} (did you mean {close[0]!r}?); see htr-desktop --help"
    shown = any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
    if sys.platform.startswith("linux") and not shown and "-platform" not in args:
        return ("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set); "
                "without one use htr-desktop recognize, serve or adapt (see htr-desktop --help)")
    return ""


if __name__ == "__main__":
    sys.exit(main())
