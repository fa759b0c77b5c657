"""Folders of labelled line images (images with ``.txt`` sidecars), the training module's folder format."""

from __future__ import annotations

import logging
from pathlib import Path

from model.adapt import LabelledImage
from model.charset import normalize_text
from model.imageio import ImageError, load_image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")


def read_lines_folder(folder: Path, problems: list[str] | None = None) -> list[LabelledImage]:
    """Every image with a non-empty ``.txt`` sidecar; unreadable ones are skipped and described in ``problems``."""
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}")
    samples = []
    for image in sorted(folder.iterdir()):
        if image.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        sidecar = image.with_suffix(".txt")
        try:
            text = normalize_text(sidecar.read_text(encoding="utf-8")) if sidecar.is_file() else ""
            if not text:
                raise ImageError(f"{image.name}: no text (expected {sidecar.name} beside it)")
            samples.append(LabelledImage(load_image(image), text))
        except (ImageError, OSError, UnicodeDecodeError) as exc:
            message = str(exc) if isinstance(exc, ImageError) else f"{image.name}: {exc}"
            log.warning("skipped %s", message)
            if problems is not None:
                problems.append(message)
    return samples
