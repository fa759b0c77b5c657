"""The headless ``recognize`` command: one result per input, JSON lines with ``--json``."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from htr_desktop import __version__
from htr_desktop.arguments import PDF_DPI, int_range
from model.decoder_config import CHOICES

log = logging.getLogger(__name__)

POOL_MIN_INPUTS = 4  # from this many inputs on, the CLI spreads them over one worker process per core
POOL_MIN_BYTES = 500_000  # or from 2 inputs on when their files total this much (pages: ~0.5 s each, not ~0.01 s)
LAYOUTS = ("auto", "page", "line", "word")
STDIN = "<stdin>"  # how the image read from standard input ("-") is named in results and errors


@dataclass(frozen=True)
class Output:
    """What to write besides the printed result: XML format ("" for none), folder, PDF resolution."""

    fmt: str = ""
    folder: str = ""
    dpi: int = 200
    stems: tuple[tuple[str, str], ...] = ()  # (path, file stem) where two inputs share a stem: none overwrites another


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="htr-desktop recognize", description="Recognize handwriting in images.",
                                epilog="example: scanimage --format=png | htr-desktop recognize --json -")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="image or PDF files; a folder gives the images and PDFs directly inside it, by name; "
                        f"- reads one image or PDF from standard input (named {STDIN} in the results)")
    p.add_argument("--layout", choices=LAYOUTS, default="auto",
                   help="page: segment into lines and words; line/word: the image is one line/word; "
                        "auto (default): choose from the image")
    p.add_argument("--json", action="store_true", help="one JSON object per input on its own line")
    p.add_argument("--format", choices=["page", "alto"],
                   help="also write PAGE-XML or ALTO per image into --out: <stem>.xml (<stem>-p<n>.xml per page)")
    p.add_argument("--out", type=Path, help="folder for --format files")
    p.add_argument("--pdf-dpi", type=int_range(*PDF_DPI), default=200,
                   help=f"resolution PDF pages are rendered at, {PDF_DPI[0]}-{PDF_DPI[1]} (default 200)")
    p.add_argument("--model", help="a model bundle folder (default: the bundled model)")
    p.add_argument("--decoder", choices=CHOICES,
                   help="override the model's decoder (beam+lm+words+widths: most accurate, about 1.7x the time)")
    p.add_argument("--threads", type=int_range(1), help="CPU threads for the network (per worker)")
    p.add_argument("--workers", type=int_range(1),
                   help="worker processes (default: one per core from 4 inputs on, or 2 of 0.5 MB in all; else none)")
    return p


def print_version() -> int:
    """Print the app and the bundled model versions."""
    from model.bundle import ModelError, bundled_model_dir, read_info

    try:
        model = read_info(bundled_model_dir()).version
    except ModelError as exc:
        model = f"unavailable ({exc})"
    print(f"htr-desktop {__version__}, model {model}")
    return 0


class OutputError(Exception):
    """Standard output cannot be written (full disk, closed)."""


def _emit(result: dict[str, Any], as_json: bool) -> None:
    from model.imageio import display_name

    result = {**result, "path": display_name(result["path"], full=True)}  # valid text even for non-UTF-8 names
    try:
        if as_json:
            utf8 = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
            print(json.dumps(result, ensure_ascii=not utf8), flush=True)
        elif "error" in result:
            message = result["error"].removeprefix(f"{display_name(result['path'])}: ")  # name the file once
            print(f"{result['path']}: error: {message}", file=sys.stderr, flush=True)
        else:
            print(f"{result['path']}\t{result['text'] or '(' + result.get('note', 'no text') + ')'}", flush=True)
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as exc:  # ENOSPC on a full disk; ValueError: stdout closed meanwhile
        raise OutputError(getattr(exc, "strerror", None) or str(exc)) from None


def recognize_path(recognizer: Any, path: str, layout: str, out: Output | None = None) -> dict[str, Any]:
    """Recognize one file as the given layout; returns the JSON-ready result (or an error)."""
    import os

    from model.imageio import SUPPORTED_SUFFIXES, ImageError, read_bytes

    if os.path.isdir(path):  # (folders with images were replaced by them)
        kinds = ", ".join(s.lstrip(".") for s in SUPPORTED_SUFFIXES)
        return {"path": path, "error": _named(path, f"no images in this folder (supported: {kinds})")}
    try:
        data = read_bytes(path)
    except ImageError as exc:
        return {"path": path, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - never a traceback for one bad file
        return {"path": path, "error": _named(path, f"cannot be read ({exc})")}
    return recognize_bytes(recognizer, (path, data), layout, out)


def recognize_input(recognizer: Any, item: str | tuple[str, bytes] | dict[str, Any], layout: str,
                    out: Output | None = None) -> dict[str, Any]:
    """Recognize a file path, or ``(name, bytes)`` read from standard input; a dict is an error result already."""
    if isinstance(item, dict):
        return item
    if isinstance(item, tuple):
        return recognize_bytes(recognizer, item, layout, out)
    return recognize_path(recognizer, item, layout, out)


def read_stdin() -> dict[str, Any] | tuple[str, bytes]:
    """Standard input's bytes as ``(STDIN, data)``, or an error result saying why there is no image there."""
    from model.imageio import MAX_FILE_BYTES

    stream = sys.stdin
    problem = ""
    data = b""
    if stream is None:
        problem = "standard input is closed"
    elif stream.isatty():
        problem = "standard input is a terminal: pipe an image into it (htr-desktop recognize - < photo.jpg)"
    else:
        try:
            data = stream.buffer.read(MAX_FILE_BYTES + 1)
        except (OSError, ValueError, AttributeError) as exc:
            problem = f"standard input cannot be read ({getattr(exc, 'strerror', None) or exc})"
        else:
            if not data:
                problem = "standard input is empty (no image was piped in)"
            elif len(data) > MAX_FILE_BYTES:
                problem = f"standard input is too large (over {MAX_FILE_BYTES / 1e6:.0f} MB)"
    return {"path": STDIN, "error": f"{STDIN}: {problem}"} if problem else (STDIN, data)


def _page_json(result: Any, layout: str) -> dict[str, Any]:
    return {"text": result.text, "confidence": round(result.confidence, 4), "layout": layout,
            "lines": [line.to_json() for line in result.lines]}


def recognize_bytes(recognizer: Any, item: tuple[str, bytes], layout: str, out: Output | None = None,
                    ) -> dict[str, Any]:
    """Recognize one encoded image or PDF ``(path or name, bytes)``; the same JSON-ready result as for a file.

    A multi-page input (PDF, TIFF) gives ``"pages"``: one result per page, and the pages' texts joined by a blank
    line. With ``out`` (format, folder) each page is also written as PAGE-XML or ALTO (``"written"``).
    """
    from model.imageio import ImageError, decode_pages
    from model.page import read_image

    path, data = item
    try:
        grays = decode_pages(data, Path(path).name, out.dpi if out else None)
        results = [read_image(gray, recognizer, layout) for gray in grays]
        pages = [_page_json(result, chosen) for chosen, result in results]
        if len(pages) == 1:
            doc = {"path": path, **pages[0]}
        else:
            doc = {"path": path, "text": "\n\n".join(p["text"] for p in pages),
                   "confidence": round(sum(p["confidence"] for p in pages) / len(pages), 4),
                   "pages": [{"page": n, **p} for n, p in enumerate(pages, 1)]}
        if not doc["text"].strip():
            doc["note"] = "no writing found"
        if out is not None and out.fmt:
            from htr_desktop.interrupt import held
            from model.pool import InterruptedAfter, keep

            try:
                with held():  # Ctrl+C waits until this input's files are written
                    doc["written"] = _write_xml(path, grays, [r for _, r in results], out, recognizer.info.version)
                    keep(doc)  # written: told even if Ctrl+C comes before it is returned
            except KeyboardInterrupt:
                if "written" not in doc:
                    raise
                raise InterruptedAfter(doc) from None  # finished and written: still reported
        return doc
    except ImageError as exc:
        return {"path": path, "error": _named(path, str(exc))}
    except OSError as exc:
        from htr_desktop.export import write_error

        target = Path(out.folder if out else "") / f"{Path(path).stem}.xml"
        if isinstance(exc.filename, str) and exc.filename:  # the file it failed on (<stem>-p<n>.xml for a page)
            target = Path(exc.filename)
        return {"path": path, "error": f"cannot write {target}: {write_error(exc, target)}"}
    except MemoryError:
        return {"path": path, "error": _named(path, "not enough memory to process this image")}
    except Exception as exc:  # noqa: BLE001 - the contract: an error object for this file, the others still run
        log.warning("%s: unexpected %s: %s", path, type(exc).__name__, exc)
        return {"path": path, "error": _named(path, f"could not be recognized ({type(exc).__name__}: {exc})")}


def _named(path: str, message: str) -> str:
    """The message, starting with the file's name."""
    from model.imageio import display_name

    name = display_name(path)
    return message if not name or message.startswith(name) else f"{name}: {message}"


def _write_xml(path: str, grays: list[Any], results: list[Any], out: Output, version: str) -> list[str]:
    """PAGE-XML or ALTO for each page: ``<folder>/<stem>.xml``, or ``<stem>-p<n>.xml`` for several pages."""
    from htr_desktop import export
    from htr_desktop.reading import region_from_line
    from htr_desktop.regions import Page

    name = Path(path).name
    pages = [Page(name=name, gray=gray, source=path, regions=[region_from_line(ln) for ln in result.lines])
             for gray, result in zip(grays, results)]
    folder = Path(out.folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = dict(out.stems).get(path, Path(path).stem)
    return [str(p) for p in export.write(folder / f"{stem}.xml", pages, version, out.fmt)]


def _expand(paths: list[str]) -> list[str]:
    """The inputs, a folder replaced by the images and PDFs directly inside it (by name; none: kept, to say so)."""
    import os

    out: list[str] = []
    for path in paths:
        if not os.path.isdir(path):
            out.append(path)
            continue
        from model.imageio import SUPPORTED_SUFFIXES

        with contextlib.suppress(OSError):
            inside = sorted(e.path for e in os.scandir(path)
                            if e.is_file() and Path(e.name).suffix.lower() in SUPPORTED_SUFFIXES)
            out.extend(inside)
            if inside:
                continue
        out.append(path)  # reported: no images in it (or unreadable)
    return out


def _output_stems(paths: list[str]) -> tuple[tuple[str, str], ...]:
    """``_unique_stems``, the image from standard input written as ``stdin.xml`` (``stdin-2.xml`` on a clash)."""
    placeholder = "./stdin"
    stems = dict(_unique_stems([placeholder if p == STDIN else p for p in paths]))
    if STDIN in paths:
        stems[STDIN] = stems.pop(placeholder, "stdin")
    return tuple(stems.items())


def _unique_stems(paths: list[str]) -> tuple[tuple[str, str], ...]:
    """For inputs whose stems clash (a/p.png b/p.png, p.png p.jpg): the 2nd gets <stem>-2, the 3rd <stem>-3 …"""
    seen: dict[str, int] = {}
    taken = {Path(p).stem.casefold() for p in paths}
    renamed = []
    for path in dict.fromkeys(paths):  # (the same path twice writes the same file twice: it is one input)
        stem = Path(path).stem
        n = seen[stem.casefold()] = seen.get(stem.casefold(), 0) + 1
        if n > 1:
            while f"{stem}-{n}".casefold() in taken:
                n += 1
            taken.add(f"{stem}-{n}".casefold())
            renamed.append((path, f"{stem}-{n}"))
    return tuple(renamed)


def run_recognize(argv: list[str]) -> int:
    """Run the command; exit code 0 if every input was recognized, 1 if any failed, 2 if no model."""
    import os

    if sys.stdout is None:  # started with stdout closed (>&-): the results could not go anywhere
        if sys.stderr is not None:
            print("htr-desktop: standard output is closed; nothing was recognized", file=sys.stderr)
        return 2
    try:
        return _recognize_all(argv)
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OutputError as exc:  # e.g. > /dev/full
        print(f"htr-desktop: cannot write the results to standard output: {exc}", file=sys.stderr, flush=True)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        return 1


def _preload(xml: bool) -> None:
    """Import what reading a file needs before worker processes are forked, so that they do not each import it."""
    import model.imageio
    import model.page  # noqa: F401

    if xml:
        import htr_desktop.export  # noqa: F401


def _worth_workers(paths: list[str]) -> bool:
    """Whether the inputs are worth worker processes: many of them, or at least 2 large files (pages)."""
    import os

    if len(paths) >= POOL_MIN_INPUTS:
        return True
    total = 0
    for path in paths:
        with contextlib.suppress(OSError, ValueError):  # a missing file is reported when its turn comes
            total += os.stat(path).st_size
    return len(paths) >= 2 and total >= POOL_MIN_BYTES


def _out_problem(folder: str) -> str:
    """Why ``folder`` cannot take the --format files ("" if it can; it is created if missing)."""
    import os

    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        return "a file is in the way (--out names a folder)"
    except OSError as exc:
        return f"the folder cannot be created ({exc.strerror or exc})"
    return "" if os.access(folder, os.W_OK | os.X_OK) else "no permission to write in this folder"


def _drop_partial(out: Output, paths: list[str], told: set[str]) -> None:
    """Remove the temporary files (``*.xml.part``) a stopped worker may have left for the inputs not told."""
    import glob
    import os

    if not out.fmt:
        return
    folder = glob.escape(out.folder)
    stems = dict(out.stems)
    for path in paths:
        if path in told:
            continue
        stem = glob.escape(stems.get(path, Path(path).stem))
        for part in glob.glob(f"{folder}/{stem}.xml.part") + glob.glob(f"{folder}/{stem}-p*.xml.part"):
            with contextlib.suppress(OSError):
                os.unlink(part)


def _recognize_all(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.paths.count("-") > 1:
        parser.error("- (standard input) can be given only once")
    args.paths = _expand(args.paths)
    if args.format and args.out is None:
        parser.error("--format needs --out FOLDER")
    if args.out is not None and not args.format:
        parser.error("--out needs --format page or alto (the files to write there)")
    if args.format and (problem := _out_problem(args.out)):
        print(f"htr-desktop: --out {args.out}: {problem}", file=sys.stderr, flush=True)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    from htr_desktop import interrupt
    from model.bundle import ModelError
    from model.pool import RecognizerPool, default_workers

    # A few small inputs (lines) are read faster in this process alone than by also starting worker processes.
    automatic = default_workers() if _worth_workers(args.paths) else 1
    workers = max(1, min(args.workers or automatic, len(args.paths)))
    done = 0
    failures = 0
    gaps = ""  # after Ctrl+C: when the inputs done are not the first ones
    stopped = ""  # after a second Ctrl+C: inputs that were running were stopped unfinished
    _preload(bool(args.format))
    try:
        if "-" in args.paths:
            interrupt.let_through()  # waiting for standard input: Ctrl+C ends the wait
        items = [read_stdin() if p == "-" else p for p in args.paths]  # (Ctrl+C while waiting for it: one line)
        args.paths = [STDIN if p == "-" else p for p in args.paths]
        with interrupt.installed(), RecognizerPool(args.model, decoder=args.decoder, threads=args.threads,
                                                   workers=workers, fork=True) as pool:
            interrupt.let_through()  # held while the modules and the model loaded: a Ctrl+C meanwhile comes now
            pool.start()
            out = Output(args.format or "", str(args.out or ""), args.pdf_dpi,
                         _output_stems(args.paths) if args.format else ())
            results = pool.map(partial(recognize_input, layout=args.layout, out=out), items)
            try:
                for result in results:
                    with interrupt.held():  # Ctrl+C never cuts a printed result in two
                        _emit(result, args.json)
                        done += 1
                        results.told()
                    failures += "error" in result
            except KeyboardInterrupt:  # queued inputs dropped; those started finish (files complete) and are told
                # All in a block Ctrl+C does not cut (more Ctrl+C: it is ending already), so that none can come between
                # the wait's end and the printing: Ctrl+C again while they finish only ends the wait.
                with contextlib.suppress(KeyboardInterrupt), interrupt.held():
                    finished = results.rest(until=interrupt.pending)
                    if interrupt.pending():  # Ctrl+C again while they finish: stop them now, tell the finished ones
                        pool.stop_now()
                        finished = results.rest(wait=False)
                        if results.unfinished:
                            stopped = f"; Ctrl+C again stopped {results.unfinished} still running"
                        _drop_partial(out, args.paths[done:], {r["path"] for r in finished})
                    if [r["path"] for r in finished] != args.paths[done:done + len(finished)]:
                        gaps = ", not all of the first ones: the printed paths say which"
                    for result in finished:
                        _emit(result, args.json)
                        done += 1
                raise
    except KeyboardInterrupt:
        return interrupt.report("recognize", f"; {done} of {len(args.paths)} inputs done{gaps}{stopped}")
    except (ModelError, ValueError) as exc:
        for path in args.paths[done:]:
            _emit({"path": path, "error": f"model unavailable: {exc}"}, args.json)
        return 2
    except RuntimeError as exc:  # a worker process died (e.g. killed for memory): report, never a traceback
        for path in args.paths[done:]:
            _emit({"path": path, "error": str(exc)}, args.json)
        return 1
    return 1 if failures else 0
