"""The document model: pages (an image and its regions) and regions (box, text, confidence, words, order)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

Box = tuple[int, int, int, int]  # x, y, w, h in full-resolution image pixels
MIN_REGION_SIDE = 4

_ids = itertools.count(1)


def new_id() -> int:
    """A process-unique id for a page or a region."""
    return next(_ids)


def _box4(values: Any) -> Box:
    """Four numbers as an (x, y, w, h) box of ints."""
    x, y, w, h = (int(v) for v in values)
    return x, y, w, h


@dataclass
class RegionWord:
    """A recognized word, its confidence and, for detected lines, its box (page pixels)."""

    text: str
    confidence: float
    box: Box | None = None
    alternatives: tuple[str, ...] = ()  # other readings the decoder considered, most likely first

    def to_json(self) -> dict[str, Any]:
        """The word as saved in sessions and exported JSON (box and alternatives only when known)."""
        out: dict[str, Any] = {"text": self.text, "confidence": round(self.confidence, 4)}
        if self.box is not None:
            out["box"] = list(self.box)
        if self.alternatives:
            out["alternatives"] = list(self.alternatives)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RegionWord:
        """Inverse of to_json."""
        box = data.get("box")
        return cls(str(data["text"]), float(data["confidence"]),
                   _box4(box) if box is not None and len(box) == 4 else None,
                   tuple(str(a) for a in data.get("alternatives", ())))


@dataclass
class Region:
    """A rectangle on a page and what was read there; ``edited`` once the user corrected the text."""

    box: Box
    text: str = ""
    confidence: float | None = None  # None until recognized
    words: list[RegionWord] = field(default_factory=list)
    kind: str = "line"
    edited: bool = False
    id: int = field(default_factory=new_id)

    def set_text(self, text: str) -> None:
        """The user's text; the words follow it (unchanged words keep box and confidence, typed ones get 1.0)."""
        self.text, self.edited = text, True
        self.words = follow_edit(self.words, text.split())

    def replace_part(self, part: Box, words: list[RegionWord]) -> None:
        """A box drawn inside this line was read: its words replace the line's words under it."""
        def under(w: RegionWord) -> bool:
            return w.box is not None and inside(w.box, part, smaller=False)

        hit = [i for i, w in enumerate(self.words) if under(w)]
        if hit:
            at = hit[0]
        else:  # nothing under the box: insert by position
            middle = part[0] + part[2] / 2
            at = sum(1 for w in self.words if w.box is None or w.box[0] + w.box[2] / 2 < middle)
        rest = [w for w in self.words if not under(w)]
        self.words = rest[:at] + list(words) + rest[at:]
        self.text = " ".join(w.text for w in self.words)
        if self.confidence is None:
            self.confidence = min((w.confidence for w in words), default=0.0)

    def to_json(self) -> dict[str, Any]:
        """The region as saved in sessions and exported JSON."""
        return {
            "box": list(self.box), "text": self.text, "kind": self.kind, "edited": self.edited,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "words": [w.to_json() for w in self.words],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Region:
        """Inverse of to_json."""
        return cls(box=_box4(data["box"]), text=str(data.get("text", "")),
                   confidence=data.get("confidence"), kind=str(data.get("kind", "line")),
                   edited=bool(data.get("edited", False)),
                   words=[RegionWord.from_json(w) for w in data.get("words", [])])


def inside(a: Box, b: Box, smaller: bool = True) -> bool:
    """Whether box ``a``'s centre lies in box ``b`` (and, with ``smaller``, ``a`` is clearly the smaller one)."""
    cx, cy = a[0] + a[2] / 2, a[1] + a[3] / 2
    centred = b[0] <= cx <= b[0] + b[2] and b[1] <= cy <= b[1] + b[3]
    return centred and (not smaller or a[2] * a[3] < 0.8 * b[2] * b[3])


def _union(boxes: list[Box]) -> Box | None:
    if not boxes:
        return None
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def follow_edit(words: list[RegionWord], tokens: list[str]) -> list[RegionWord]:
    """New words for edited text: kept words keep box and confidence; retyped ones share the boxes they replace.

    A typed word has confidence 1.0 (a person wrote it); an inserted word that replaced nothing has no box.
    """
    import difflib

    from model.page import word_boxes

    out: list[RegionWord] = []
    matcher = difflib.SequenceMatcher(a=[w.text for w in words], b=tokens, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            out.extend(RegionWord(w.text, w.confidence, w.box, w.alternatives) for w in words[a0:a1])
            continue
        new = tokens[b0:b1]
        if not new:
            continue
        old_boxes = [w.box for w in words[a0:a1] if w.box is not None]
        area = _union(old_boxes)
        boxes: list[Box | None] = list(word_boxes(new, old_boxes, area)) if area is not None else [None] * len(new)
        out.extend(RegionWord(t, 1.0, b) for t, b in zip(new, boxes))
    return out


def _same_line(a: Region, b: Region) -> bool:
    """Two word regions that overlap vertically by more than half the smaller height."""
    if a.kind != "word" or b.kind != "word":
        return False
    top, bottom = max(a.box[1], b.box[1]), min(a.box[1] + a.box[3], b.box[1] + b.box[3])
    return bottom - top > 0.5 * min(a.box[3], b.box[3])


@dataclass
class Page:
    """One image (a file, a TIFF page, a paste or a scan) and its regions in reading order."""

    name: str
    gray: np.ndarray
    source: str = ""  # original path, or "" for pasted/scanned images
    regions: list[Region] = field(default_factory=list)
    stored_as: str = ""  # key of its PNG copy in the session store (htr_desktop.session)
    id: int = field(default_factory=new_id)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.gray.shape[1], self.gray.shape[0]

    def region(self, region_id: int) -> Region | None:
        """The region with this id, if it still exists."""
        return next((r for r in self.regions if r.id == region_id), None)

    def clip(self, box: Box) -> Box:
        """``box`` clipped to the image; raises ImageError when too little is left to read."""
        from model.imageio import ImageError

        x, y, w, h = (int(round(v)) for v in box)
        width, height = self.size
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(width, x + w), min(height, y + h)
        if x1 - x0 < MIN_REGION_SIDE or y1 - y0 < MIN_REGION_SIDE:
            raise ImageError(f"the selection is empty or too small (at least {MIN_REGION_SIDE}x{MIN_REGION_SIDE} "
                             "pixels inside the image)")
        return x0, y0, x1 - x0, y1 - y0

    def crop(self, box: Box) -> np.ndarray:
        """The pixels under ``box`` (clipped)."""
        x, y, w, h = self.clip(box)
        return self.gray[y: y + h, x: x + w]

    def text_regions(self) -> list[Region]:
        """The regions whose text counts, in reading order: not empty, not inside another box."""
        return [r for r in self.regions
                if r.text and not any(o is not r and inside(r.box, o.box) for o in self.regions)]

    @property
    def text(self) -> str:
        """The page's text in reading order: lines on their own line, words of one line joined by spaces."""
        out = ""
        previous: Region | None = None
        for r in self.text_regions():  # a box inside another box (older sessions) never doubles the text
            if previous is not None:
                out += " " if _same_line(previous, r) else "\n"
            out += r.text
            previous = r
        return out

    def sort_reading_order(self) -> None:
        """Sort regions top-to-bottom, then left-to-right within a line band."""
        import statistics

        if not self.regions:
            return
        median_h = float(statistics.median(r.box[3] for r in self.regions))
        self.regions.sort(key=lambda r: (round((r.box[1] + r.box[3] / 2) / max(median_h, 1.0)), r.box[0]))
