"""Writers for .txt, .json and .csv, and batch recognition of a folder (Qt-free)."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from htr_desktop import __version__
from htr_desktop.reading import ChunkedRecognizer, preprocess, read_whole
from htr_desktop.regions import Page
from model.imageio import SUPPORTED_SUFFIXES, ImageError, load_pages

log = logging.getLogger(__name__)
FORMATS = {"txt": "Text (*.txt)", "json": "JSON with boxes and confidences (*.json)", "csv": "CSV table (*.csv)"}
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


def render(pages: list[Page], fmt: str, model_version: str = "") -> str:
    """The pages in format ``fmt`` (txt | json | csv)."""
    if fmt == "txt":
        return to_txt(pages)
    if fmt == "json":
        return to_json(pages, model_version)
    if fmt == "csv":
        return to_csv(pages)
    raise ValueError(f"unknown export format {fmt!r}")


def write(path: str | os.PathLike[str], pages: list[Page], model_version: str = "") -> Path:
    """Write ``pages`` to ``path``; the format follows the suffix (.txt/.json/.csv). Raises OSError/ValueError."""
    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    text = render(pages, fmt, model_version)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, out)
    return out


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The supported image files directly inside ``folder``, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)


def read_file(recognizer: Any, path: Path, layout: str = "auto", options: dict[str, bool] | None = None,
              ) -> tuple[list[Page], str]:
    """Recognize every page of one image file: (pages, "") or ([], the error message for the user)."""
    try:
        grays = load_pages(path)
        pages = []
        for n, gray in enumerate(grays, 1):
            name = path.name if len(grays) == 1 else f"{path.name} p{n}"
            page = Page(name=name, gray=gray, source=str(path))
            page.regions = read_whole(preprocess(gray, **(options or {})), recognizer, layout)
            pages.append(page)
        return pages, ""
    except ImageError as exc:
        return [], str(exc)


def batch(files: list[Path], out_dir: Path, mode: str, recognizer: ChunkedRecognizer, layout: str = "auto",
          options: dict[str, bool] | None = None, on_file: Callable[[int, int], None] = lambda i, n: None,
          ) -> dict[str, Any]:
    """Recognize ``files`` (on every core); mode "txt"/"json" writes one file per image, "csv" one ``results.csv``.

    Returns {"written": [paths], "errors": {file: message}}. Unreadable files are reported, the rest still run.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    errors: dict[str, str] = {}
    all_pages: list[Page] = []
    on_file(0, len(files))
    results = recognizer.map(partial(read_file, layout=layout, options=options), files)
    for i, (path, (pages, error)) in enumerate(zip(files, results), 1):
        on_file(i, len(files))
        if error:
            errors[path.name] = error
        elif mode == "csv":
            all_pages.extend(pages)
        else:
            written.append(str(write(out_dir / f"{path.stem}.{mode}", pages, recognizer.info.version)))
    if mode == "csv":
        written.append(str(write(out_dir / "results.csv", all_pages)))
    return {"written": written, "errors": errors}
