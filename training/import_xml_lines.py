"""Cut handwritten line images out of ALTO or PAGE-XML ground truth (e.g. HTR-United datasets) into plain folders.

The output is what ``training.datasets.read_folder`` reads: ``<out>/train`` and ``<out>/val`` with one PNG a line
and a ``labels.tsv``. Whole documents (the XML files' folders, or what ``group_pattern`` finds in their paths) are
held back for validation, never single lines.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import xml.etree.ElementTree as ET
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from model.charset import DEFAULT_CHARSET, normalize_text

log = logging.getLogger(__name__)

PAD = 6  # px of page kept around a line's polygon
REACH = 2.5  # how far (times the polygon's height) a line's strokes may reach out of its polygon
EDITORIAL = ("^", "\u27e6", "\u27e7", "[", "]", "\u2e22", "\u2e23", ">", "<")  # insertions, struck out, illegible, gaps
Points = tuple[tuple[int, int], ...]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
HANDWRITTEN_TYPES = ("", "defaultline:handwritten", "handwritten", "defaultline", "default")


@dataclass(frozen=True)
class XmlLine:
    """One transcribed text line of a page: its outline, its text and its line type ('' if untyped)."""

    image: Path
    points: Points
    text: str
    kind: str


def _local(tag: str) -> str:
    """Tag name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _children(node: ET.Element, name: str) -> list[ET.Element]:
    """Direct children called ``name`` (any namespace)."""
    return [c for c in node if _local(c.tag) == name]


def _points(text: str) -> tuple[tuple[int, int], ...]:
    """``"x,y x,y"`` (PAGE) or ``"x y x y"`` (ALTO) -> point pairs."""
    nums = [int(round(float(v))) for v in re.split(r"[\s,]+", text.strip()) if v]
    return tuple(zip(nums[0::2], nums[1::2], strict=False))


def _box(x: str | None, y: str | None, w: str | None, h: str | None) -> tuple[tuple[int, int], ...]:
    """An ALTO HPOS/VPOS/WIDTH/HEIGHT box as its four corners (empty if incomplete)."""
    if None in (x, y, w, h):
        return ()
    x0, y0, x1, y1 = float(x or 0), float(y or 0), float(x or 0) + float(w or 0), float(y or 0) + float(h or 0)
    return tuple((int(round(a)), int(round(b))) for a, b in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)))


def read_alto(path: Path) -> list[XmlLine]:
    """The text lines of an ALTO file; line types from ``TAGREFS`` to ``OtherTag`` labels (eScriptorium)."""
    root = ET.parse(path).getroot()
    labels = {t.get("ID"): t.get("LABEL", "") for t in root.iter() if _local(t.tag) == "OtherTag"}
    names = [e.text or "" for e in root.iter() if _local(e.tag) == "fileName"]
    image = path.with_name(names[0].strip()) if names and names[0].strip() else path.with_suffix(".jpg")
    lines = []
    for tl in (e for e in root.iter() if _local(e.tag) == "TextLine"):
        polygons = [p.get("POINTS", "") for p in tl.iter() if _local(p.tag) == "Polygon"]
        points = _points(polygons[0]) if polygons else _box(tl.get("HPOS"), tl.get("VPOS"), tl.get("WIDTH"),
                                                             tl.get("HEIGHT"))
        text = " ".join(c.get("CONTENT", "") for c in tl if _local(c.tag) == "String")
        kind = " ".join(labels.get(ref, "") for ref in (tl.get("TAGREFS") or "").split()).strip()
        lines.append(XmlLine(image, points, text, kind))
    return lines


def read_page(path: Path) -> list[XmlLine]:
    """The text lines of a PAGE-XML file; line types from ``custom="structure {type:...;}"``."""
    root = ET.parse(path).getroot()
    pages = [e for e in root.iter() if _local(e.tag) == "Page"]
    name = pages[0].get("imageFilename", "") if pages else ""
    image = path.with_name(Path(name).name) if name else path.with_suffix(".jpg")
    lines = []
    for tl in (e for e in root.iter() if _local(e.tag) == "TextLine"):
        coords = _children(tl, "Coords")
        points = _points(coords[0].get("points", "")) if coords else ()
        unicode = [u.text or "" for eq in _children(tl, "TextEquiv") for u in _children(eq, "Unicode")]
        kind = re.search(r"structure\s*\{[^}]*type:([^;}]+)", tl.get("custom", ""))
        lines.append(XmlLine(image, points, unicode[0] if unicode else "", kind.group(1).strip() if kind else ""))
    return lines


def read_xml(path: Path) -> list[XmlLine]:
    """ALTO or PAGE lines, told apart by the root element; other XML gives no lines."""
    root = _local(ET.parse(path).getroot().tag)
    return read_alto(path) if root == "alto" else read_page(path) if root == "PcGts" else []


def why_skipped(line: XmlLine, charset: str = DEFAULT_CHARSET, all_types: bool = False, marks: str = "") -> str:
    """'' if the line is usable, else the reason: type, empty, editorial marks (also ``marks``), unknown characters,
    no outline."""
    if not all_types and line.kind.lower() not in HANDWRITTEN_TYPES:
        return "not handwritten"
    if len(line.points) < 3:
        return "no outline"
    if any(mark in line.text for mark in (*EDITORIAL, *marks)):
        return "editorial marks"
    text = normalize_text(line.text)
    if not text:
        return "empty"
    if any(ch not in charset for ch in text):
        return "characters outside the charset"
    return ""


def _ink(gray: np.ndarray) -> np.ndarray:
    """Dark strokes of a gray page part (Otsu), as 0/1."""
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return ink


def line_mask(page: np.ndarray, points: Points, others: list[Points] | None = None, pad: int = PAD,
              reach: float = REACH) -> tuple[np.ndarray, tuple[int, int]]:
    """The line's polygon grown by the ink strokes it touches, dilated by ``pad``; and its window's corner.

    Transcription tools often draw a line's polygon around its body only (x-height), cutting ascenders, capitals
    and descenders. A stroke (connected ink) touching the polygon belongs to the line unless the polygon of
    another line of the page (``others``) holds more of it, as with a neighbour's descender dipping in, or it
    spans the whole window (a page edge's shadow, a ruled line); of a stroke joined to another line's writing,
    only the part nearer to this polygon than to the others is kept.
    The line reaches at most ``reach`` times the polygon's median height above and below it.
    """
    poly = np.array(points, np.int32)
    (px0, py0), (px1, py1) = poly.min(axis=0), poly.max(axis=0)
    own = np.zeros((int(py1 - py0) + 1, int(px1 - px0) + 1), np.uint8)
    cv2.fillPoly(own, [poly - (px0, py0)], 1)
    heights = own.sum(axis=0)
    grow = pad + (int(round(reach * float(np.median(heights[heights > 0])))) if heights.any() else 0)
    x0, y0 = max(int(px0) - pad, 0), max(int(py0) - 2 * grow, 0)  # twice as far: to see the neighbours' polygons
    x1, y1 = min(int(px1) + pad + 1, page.shape[1]), min(int(py1) + 2 * grow + 1, page.shape[0])
    mask = np.zeros((max(y1 - y0, 0), max(x1 - x0, 0)), np.uint8)
    if mask.size == 0:
        return mask, (x0, y0)
    cv2.fillPoly(mask, [poly - (x0, y0)], 1)
    count, labels = cv2.connectedComponents(_ink(page[y0:y1, x0:x1]), connectivity=8)
    inside = np.bincount(labels[mask > 0], minlength=count)
    kept = inside > 0
    theirs = np.zeros_like(mask)  # every other line's polygon
    for other in others or []:
        if other == points or len(other) < 3:
            continue
        one = np.zeros_like(mask)
        cv2.fillPoly(one, [np.array(other, np.int32) - (x0, y0)], 1)
        kept &= inside >= np.bincount(labels[one > 0], minlength=count)
        theirs |= one
    kept[np.intersect1d(labels[0], labels[-1])] = False  # from the window's top to its bottom: a page edge, a rule
    kept[0] = False  # the paper
    grown = kept[labels]
    if theirs.any():  # strokes running into another line: only their part nearer to this line's polygon
        near = cv2.distanceTransform(1 - mask, cv2.DIST_L2, 3)
        grown &= near <= cv2.distanceTransform(1 - theirs, cv2.DIST_L2, 3)
    grown[:max(int(py0) - grow - y0, 0)] = False
    grown[int(py1) + grow + 1 - y0:] = False
    mask[grown] = 1
    return cv2.dilate(mask, np.ones((2 * pad + 1, 2 * pad + 1), np.uint8)), (x0, y0)


def crop_line(page: np.ndarray, points: Points, others: list[Points] | None = None,
              pad: int = PAD) -> np.ndarray | None:
    """The line's ink (``line_mask``) plus ``pad`` from a gray page, paper-coloured elsewhere."""
    mask, (x0, y0) = line_mask(page, points, others, pad)
    if not mask.any():
        return None
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    if r1 - r0 < 8 or c1 - c0 < 8:
        return None
    crop = page[y0 + r0:y0 + r1, x0 + c0:x0 + c1].copy()
    crop[mask[r0:r1, c0:c1] == 0] = int(np.percentile(crop, 90))
    return crop


def upright(crop: np.ndarray, text: str) -> str:
    """'' if a line crop can hold its text written left to right, else why not (a vertical line, a rotated page)."""
    return "taller than wide" if crop.shape[0] > crop.shape[1] and len(normalize_text(text)) > 2 else ""


def held_out(groups: dict[str, int], fraction: float) -> set[str]:
    """Groups for validation: in a fixed pseudo-random order until ``fraction`` of the lines is reached."""
    total = sum(groups.values())
    chosen: set[str] = set()
    count = 0
    for name in sorted(groups, key=lambda g: (zlib.crc32(g.encode()), g)):
        if count >= fraction * total:
            break
        chosen.add(name)
        count += groups[name]
    return chosen


def _slug(text: str) -> str:
    """A file-name part without '-' (``Sample.group`` is the name up to the first '-')."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "doc"


def _reset(folder: Path) -> None:
    """Empty an output folder written by this importer; refuse any other non-empty folder."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / "labels.tsv").exists():
            raise ValueError(f"{folder} is not empty and was not written by this importer")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)


def document(xml: Path, source: Path, group_pattern: str = "") -> str:
    """An XML file's document: the first match of ``group_pattern`` in its path below ``source``, else its folder."""
    relative = xml.relative_to(source)
    found = re.search(group_pattern, relative.as_posix()) if group_pattern else None
    return _slug(found.group(0) if found else str(relative.parent))


def _find_image(image: Path, elsewhere: dict[str, Path]) -> Path:
    """The page image named by the XML; if it is not beside the XML, the only file of that name below the source."""
    return image if image.exists() else elsewhere.get(image.name, image)


def _read_page(path: Path, scale: float) -> np.ndarray | None:
    """A page image in gray, shrunk by ``scale``; None if unreadable."""
    page = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if page is None or scale == 1:
        return page
    return cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _scaled(points: Points, scale: float) -> Points:
    """Outline points in a page shrunk by ``scale``."""
    return points if scale == 1 else tuple((int(round(x * scale)), int(round(y * scale))) for x, y in points)


def import_lines(source: Path, out: Path, val_fraction: float = 0.1, all_types: bool = False,
                 group_pattern: str = "", marks: str = "", scale: float = 1.0) -> dict[str, int]:
    """Write ``out/train`` and ``out/val`` (PNG + labels.tsv) from every ALTO/PAGE file below ``source``;
    pages shrunk by ``scale`` first (big scans: faster, smaller crops)."""
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], not {scale}")
    paths = [p for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES]
    found = Counter(p.name for p in paths)
    images = {p.name: p for p in paths if found[p.name] == 1}  # unambiguous names only
    usable: dict[str, list[XmlLine]] = defaultdict(list)
    counts: Counter[str] = Counter()
    outlines: dict[Path, list[Points]] = defaultdict(list)  # every line of a page, to tell whose stroke is whose
    for xml in sorted(source.rglob("*.xml")):
        try:
            lines = read_xml(xml)
        except ET.ParseError as exc:
            log.warning("skipping %s: %s", xml, exc)
            counts["unreadable xml"] += 1
            continue
        group = document(xml, source, group_pattern)
        for line in (replace(x, image=_find_image(x.image, images)) for x in lines):
            outlines[line.image].append(line.points)
            reason = why_skipped(line, all_types=all_types, marks=marks)
            counts[f"skipped: {reason}" if reason else "usable"] += 1
            if not reason:
                usable[group].append(line)
    val_groups = held_out({g: len(v) for g, v in usable.items()}, val_fraction)
    labels: dict[str, list[str]] = {"train": [], "val": []}
    documents: dict[str, set[str]] = {"train": set(), "val": set()}  # those with a line written
    for part in labels:
        _reset(out / part)
    pages: dict[Path, np.ndarray | None] = {}
    for group, lines in sorted(usable.items()):
        part = "val" if group in val_groups else "train"
        for i, line in enumerate(lines):
            if line.image not in pages:
                pages.clear()  # one page in memory at a time (lines come page by page)
                pages[line.image] = _read_page(line.image, scale)
            page = pages[line.image]
            crop = None if page is None else crop_line(page, _scaled(line.points, scale),
                                                       [_scaled(o, scale) for o in outlines[line.image]])
            reason = "no image or empty crop" if crop is None else upright(crop, line.text)
            if crop is None or reason:
                counts[f"skipped: {reason}"] += 1
                counts["usable"] -= 1
                continue
            name = f"{group}-{_slug(line.image.stem)}-{i:04d}.png"
            cv2.imwrite(str(out / part / name), crop)
            labels[part].append(f"{name}\t{normalize_text(line.text)}")
            documents[part].add(group)
    for part, rows in labels.items():
        (out / part / "labels.tsv").write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    result = {**dict(sorted(counts.items())), "train_lines": len(labels["train"]), "val_lines": len(labels["val"]),
              "train_documents": len(documents["train"]), "val_documents": len(documents["val"])}
    (out / "import.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    p = argparse.ArgumentParser(prog="python -m training import-xml-lines", description=__doc__)
    p.add_argument("source", type=Path, help="folder with ALTO/PAGE .xml files next to their page images")
    p.add_argument("--out", type=Path, required=True, help="output folder (gets train/ and val/)")
    p.add_argument("--val-fraction", type=float, default=0.1, help="share of lines held back, by document")
    p.add_argument("--all-types", action="store_true", help="also typed/printed/signature/interlinear lines")
    p.add_argument("--group-pattern", default="", help="regular expression: its first match in an XML file's path "
                   "names the document (default: the folder), e.g. 'wikitexte_[0-9]+' for one writer's pages")
    p.add_argument("--marks", default="", help="more characters that mark editorial notes in this set: skip its lines")
    p.add_argument("--scale", type=float, default=1.0, help="shrink pages by this factor first (e.g. 0.5 for 300-dpi "
                   "scans): faster, smaller crops")
    args = p.parse_args(argv)
    if not args.source.is_dir():
        raise SystemExit(f"{args.source} is not a folder")
    try:
        re.compile(args.group_pattern)
    except re.error as exc:
        raise SystemExit(f"--group-pattern is not a regular expression: {exc}") from None
    try:
        result = import_lines(args.source, args.out, args.val_fraction, args.all_types, args.group_pattern,
                              args.marks, args.scale)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    print(json.dumps(result, indent=1))
    return 0
