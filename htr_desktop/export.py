"""Writers for .txt, .json and .csv, and batch recognition of a folder (Qt-free)."""

from __future__ import annotations

import csv
import errno
import io
import json
import logging
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from htr_desktop import __version__
from htr_desktop.export_xml import XML_FORMATS, to_alto, to_page_xml
from htr_desktop.reading import ChunkedRecognizer, preprocess, read_whole
from htr_desktop.regions import Page
from model.imageio import SUPPORTED_SUFFIXES, ImageError, load_pages

log = logging.getLogger(__name__)
FORMATS = {"txt": "Text (*.txt)", "json": "JSON with boxes and confidences (*.json)", "csv": "CSV table (*.csv)",
           **XML_FORMATS}
PER_PAGE = ("page", "alto")  # one file per page
CSV_FIELDS = ["page", "region", "x", "y", "w", "h", "kind", "text", "confidence", "edited"]


def to_txt(pages: list[Page]) -> str:
    """The pages' texts; with several pages each starts with a ``=== name ===`` line."""
    if len(pages) == 1:
        return pages[0].text + "\n"
    return "\n\n".join(f"=== {p.name} ===\n{p.text}" for p in pages) + "\n"


def to_json(pages: list[Page], model_version: str = "") -> str:
    """Text, boxes, confidences and words of every page."""
    doc: dict[str, Any] = {"app": f"htr-desktop {__version__}", "model": model_version, "pages": []}
    for p in pages:
        w, h = p.size
        doc["pages"].append({"name": p.name, "source": p.source, "width": w, "height": h, "text": p.text,
                             "regions": [r.to_json() for r in p.regions]})
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def csv_rows(pages: list[Page]) -> list[dict[str, Any]]:
    """One row per region."""
    rows = []
    for p in pages:
        for i, r in enumerate(p.regions, 1):
            x, y, w, h = r.box
            rows.append({"page": p.name, "region": i, "x": x, "y": y, "w": w, "h": h, "kind": r.kind, "text": r.text,
                         "confidence": "" if r.confidence is None else f"{r.confidence:.4f}", "edited": int(r.edited)})
    return rows


def to_csv(pages: list[Page]) -> str:
    """One row per region: page, region number, box, kind, text, confidence, edited."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(csv_rows(pages))
    return buf.getvalue()


def suffix(fmt: str) -> str:
    """The file suffix of format ``fmt``."""
    return ".xml" if fmt in PER_PAGE else f".{fmt}"


def fmt_of(path: str | os.PathLike[str]) -> str:
    """The format a file name asks for (.xml is PAGE-XML); ValueError for an unknown suffix."""
    ext = Path(path).suffix.lower().lstrip(".")
    fmt = "page" if ext == "xml" else ext
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {ext!r} (choose {', '.join(FORMATS)})")
    return fmt


def render(pages: list[Page], fmt: str, model_version: str = "") -> str:
    """The pages in format ``fmt`` (txt | json | csv; page | alto take exactly one page)."""
    if fmt == "txt":
        return to_txt(pages)
    if fmt == "json":
        return to_json(pages, model_version)
    if fmt == "csv":
        return to_csv(pages)
    if fmt in PER_PAGE and len(pages) == 1:
        return (to_page_xml if fmt == "page" else to_alto)(pages[0], model_version)
    raise ValueError(f"unknown export format {fmt!r}" if fmt not in PER_PAGE else f"{fmt} holds one page per file")


def targets(path: str | os.PathLike[str], pages: list[Page], fmt: str) -> list[tuple[Path, list[Page]]]:
    """Where ``pages`` go: one file, or for PAGE-XML/ALTO with several pages ``<stem>-p<n>.xml`` each."""
    out = Path(path)
    if fmt not in PER_PAGE or len(pages) == 1:
        return [(out, pages)]
    return [(out.with_name(f"{out.stem}-p{n}{out.suffix or '.xml'}"), [p]) for n, p in enumerate(pages, 1)]


def write(path: str | os.PathLike[str], pages: list[Page], model_version: str = "", fmt: str | None = None,
          ) -> list[Path]:
    """Write ``pages`` to ``path`` (format from ``fmt`` or the suffix); returns the files. Raises OSError/ValueError."""
    fmt = fmt or fmt_of(path)
    written = []
    for out, group in targets(path, pages, fmt):
        text = render(group, fmt, model_version)
        tmp = out.with_name(out.name + ".part")
        try:
            tmp.write_text(text, encoding="utf-8", newline="")
            os.replace(tmp, out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)  # no half-written file left behind; ``out`` is untouched
            if exc.filename in (None, str(tmp)):
                exc.filename = str(out)  # the file it failed on, not its temporary name (or none: a full disk)
            raise
        written.append(out)
    return written


def write_error(exc: OSError, path: str | os.PathLike[str]) -> str:
    """Why writing ``path`` failed, in plain words (no errno, no temporary name)."""
    out = Path(path)
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EROFS:
        return f"{out.parent} is on a read-only disk"
    if isinstance(exc, IsADirectoryError) or out.is_dir():
        return f"{out.name} is a folder"
    if isinstance(exc, FileNotFoundError) or not out.parent.is_dir():
        return f"the folder {out.parent} does not exist"
    if isinstance(exc, PermissionError):
        return f"no permission to write in {out.parent}"
    return exc.strerror or str(exc)


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The supported image files directly inside ``folder``, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)


def read_file(recognizer: Any, path: Path, layout: str = "auto", options: dict[str, bool] | None = None,
              dpi: int | None = None) -> tuple[list[Page], str]:
    """Recognize every page of one image file (or PDF, at ``dpi``): (pages, "") or ([], the error message)."""
    try:
        grays = load_pages(path, dpi)
        pages = []
        for n, gray in enumerate(grays, 1):
            name = path.name if len(grays) == 1 else f"{path.name} p{n}"
            page = Page(name=name, gray=gray, source=str(path))
            page.regions = read_whole(preprocess(gray, **(options or {})), recognizer, layout)
            pages.append(page)
        return pages, ""
    except ImageError as exc:
        return [], str(exc)


def read_regions(recognizer: Any, path: Path, layout: str = "auto", options: dict[str, bool] | None = None,
                 dpi: int | None = None) -> tuple[list[tuple[str, tuple[int, ...], list[Any]]], str]:
    """``read_file`` without the pixels: each page's name, shape and regions (a worker process returns far less)."""
    pages, error = read_file(recognizer, path, layout, options, dpi)
    return [(page.name, page.gray.shape, page.regions) for page in pages], error


def _sized_page(name: str, shape: tuple[int, ...], source: str, regions: list[Any]) -> Page:
    """A page of ``shape`` whose pixels are not kept (a blank view): what the writers need is its size."""
    return Page(name=name, gray=np.broadcast_to(np.uint8(255), shape), source=source, regions=regions)


def outputs(files: list[Path], out_dir: Path, fmt: str, csv_name: str = "results.csv") -> dict[Path, Path]:
    """Each input's output file (CSV: all into ``csv_name``); inputs with the same stem keep their suffix."""
    if fmt == "csv":
        return dict.fromkeys(files, out_dir / csv_name)
    stems = [f.stem for f in files]
    return {f: out_dir / ((f.stem if stems.count(f.stem) == 1 else f.name) + suffix(fmt)) for f in files}


def existing(files: list[Path], out_dir: Path, fmt: str, csv_name: str = "results.csv") -> list[Path]:
    """The output files a batch would replace (PAGE-XML/ALTO pages of multi-page inputs included)."""
    found = set()
    for out in outputs(files, out_dir, fmt, csv_name).values():
        if out.exists():
            found.add(out)
        if fmt in PER_PAGE:
            found.update(out.parent.glob(f"{out.stem}-p*{out.suffix}"))
    return sorted(found)


def batch(files: list[Path], out_dir: Path, fmt: str, recognizer: ChunkedRecognizer, layout: str = "auto",
          options: dict[str, bool] | None = None, on_file: Callable[[int, int], None] = lambda i, n: None,
          csv_name: str = "results.csv", overwrite: bool = False, dpi: int | None = None) -> dict[str, Any]:
    """Recognize ``files`` (on every core) into ``out_dir``: one file per image, or one CSV named ``csv_name``.

    Existing files are kept (listed under "skipped") unless ``overwrite``. Returns {"written": [paths],
    "skipped": [paths], "errors": {file: message}, "folder": out_dir}; unreadable files are reported, the rest run.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    targets_by_file = outputs(files, out_dir, fmt, csv_name)
    todo = files if overwrite or fmt == "csv" else [f for f in files if not existing([f], out_dir, fmt)]
    skipped = [str(targets_by_file[f]) for f in files if f not in todo]
    if fmt == "csv" and not overwrite and (out_dir / csv_name).exists():
        todo, skipped = [], [str(out_dir / csv_name)]
    written: list[str] = []
    errors: dict[str, str] = {}
    all_pages: list[Page] = []
    on_file(0, len(todo))
    results = recognizer.map_files(partial(read_regions, layout=layout, options=options, dpi=dpi), todo)
    for i, (path, (read, error)) in enumerate(zip(todo, results), 1):
        on_file(i, len(todo))
        pages = [_sized_page(name, shape, str(path), regions) for name, shape, regions in read]
        if error:
            errors[path.name] = error
        elif fmt == "csv":
            all_pages.extend(pages)
        else:
            written.extend(str(p) for p in write(targets_by_file[path], pages, recognizer.info.version, fmt))
    if fmt == "csv" and todo:
        written.extend(str(p) for p in write(out_dir / csv_name, all_pages, fmt="csv"))
    return {"written": written, "skipped": skipped, "errors": errors, "folder": str(out_dir)}
