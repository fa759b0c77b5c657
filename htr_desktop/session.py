"""Autosave and restore of the session (pages as PNG copies, regions and corrected texts) as JSON."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import platformdirs

from htr_desktop.regions import Page, Region

log = logging.getLogger(__name__)
SESSION_FILE = "session.json"
FORMAT = 1


def default_folder() -> Path:
    """Where the session lives: ``$HTR_DESKTOP_DATA_DIR`` or the platform's user data folder."""
    override = os.environ.get("HTR_DESKTOP_DATA_DIR")
    base = Path(override) if override else Path(platformdirs.user_data_dir("htr-desktop", "htr-desktop"))
    return base / "session"


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save(folder: Path, pages: list[Page], current: int = 0) -> None:
    """Write every page's image (once) and the JSON describing pages and regions; never raises OSError."""
    import uuid

    import cv2

    try:
        folder.mkdir(parents=True, exist_ok=True)
        entries: list[dict[str, Any]] = []
        keep = {SESSION_FILE}
        for page in pages:
            if not page.stored_as:
                page.stored_as = f"page-{uuid.uuid4().hex[:12]}.png"
            image_name = page.stored_as
            keep.add(image_name)
            image_path = folder / image_name
            if not image_path.exists():
                ok, buf = cv2.imencode(".png", page.gray)
                if ok:
                    _atomic_write(image_path, buf.tobytes())
            entries.append({"name": page.name, "source": page.source, "image": image_name,
                            "regions": [r.to_json() for r in page.regions]})
        doc = {"format": FORMAT, "current": current, "pages": entries}
        _atomic_write(folder / SESSION_FILE, json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8"))
        for stale in folder.glob("page-*.png"):
            if stale.name not in keep:
                stale.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("session not saved: %s", exc)


def load(folder: Path) -> tuple[list[Page], int]:
    """The saved pages and the index of the current one; ([], 0) when nothing (usable) was saved."""
    path = folder / SESSION_FILE
    if not path.is_file():
        return [], 0
    from model.imageio import ImageError, load_image

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        pages = []
        for entry in doc.get("pages", []):
            try:
                gray = load_image(folder / entry["image"])
            except ImageError as exc:
                log.warning("session page skipped: %s", exc)
                continue
            page = Page(name=str(entry["name"]), gray=gray, source=str(entry.get("source", "")),
                        stored_as=str(entry["image"]))
            page.regions = [Region.from_json(r) for r in entry.get("regions", [])]
            pages.append(page)
        return pages, int(doc.get("current", 0))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("session cannot be restored: %s", exc)
        return [], 0
