"""One Region per text line from model.page's result (lines, each followed by its word boxes), words inside."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from htr_desktop.regions import Box, Region, RegionWord


def _box(region: Any) -> Box:
    x, y, w, h = (int(v) for v in region.box)
    return x, y, w, h


def _contains(line: Box, word: Box) -> bool:
    cx, cy = word[0] + word[2] / 2, word[1] + word[3] / 2
    return line[0] <= cx <= line[0] + line[2] and line[1] <= cy <= line[1] + line[3]


def group_lines(regions: Sequence[Any]) -> list[tuple[Any, list[Any]]]:
    """(line region, its word regions) in reading order; a word belongs to the line before it or around it."""
    groups: list[tuple[Any, list[Any]]] = [(r, []) for r in regions if r.kind != "word"]
    current: tuple[Any, list[Any]] | None = None
    for r in regions:
        if r.kind != "word":
            current = next(g for g in groups if g[0] is r)
            continue
        owner = current if current is not None and _contains(_box(current[0]), _box(r)) else None
        owner = owner or next((g for g in groups if _contains(_box(g[0]), _box(r))), current)
        if owner is not None:
            owner[1].append(r)
    return groups


def _boxed_words(words: Sequence[Any], word_regions: Sequence[Any]) -> list[RegionWord]:
    """The line's recognized words, each with the box of the word region it was assigned to.

    model.page joins the words it assigned to one box with single spaces, in order, so the boxes are matched by
    consuming as many recognized words as each box's text holds.
    """
    out = [RegionWord(w.text, float(w.confidence)) for w in words]
    i = 0
    for wr in word_regions:
        n = len(wr.text.split(" ")) if wr.text else 0
        if [w.text for w in out[i: i + n]] != wr.text.split(" ")[:n]:
            break  # not the expected order: keep the words without boxes rather than guess
        for w in out[i: i + n]:
            w.box = _box(wr)
        i += n
    return out


def line_regions(regions: Sequence[Any], predictions: Sequence[Any]) -> list[Region]:
    """Regions of kind "line" with their words (text, confidence, box) from model.page regions.

    ``predictions`` are the recognizer's outputs for the page's lines (for the per-word confidences); a line
    without a matching prediction takes its words from the word regions.
    """
    groups = group_lines(regions)
    preds = list(predictions)
    positional = len(preds) == len(groups) and all(p.text == g[0].text for p, g in zip(preds, groups))
    out = []
    for n, (line, word_regions) in enumerate(groups):
        if positional:
            pred = preds[n]
        else:
            pred = next((p for p in preds if p.text == line.text), None)
            if pred is not None:
                preds.remove(pred)
        if pred is not None:
            words = _boxed_words(pred.words, word_regions)
        else:
            words = [RegionWord(w.text, float(w.confidence), _box(w)) for w in word_regions if w.text]
        out.append(Region(box=_box(line), text=line.text, confidence=float(line.confidence), words=words,
                          kind="line"))
    return out


def fold_word_regions(regions: list[Region]) -> list[Region]:
    """Sessions saved when Detect lines also made word regions: a word region inside a line becomes its word box.

    Word regions outside every line (drawn by the user) and corrected ones stay regions.
    """
    lines = [r for r in regions if r.kind != "word"]
    kept: list[Region] = []
    inside: dict[int, list[Region]] = {}
    for r in regions:
        owner = None
        if r.kind == "word" and not r.edited:
            owner = next((ln for ln in lines if _contains(ln.box, r.box)), None)
        if owner is None:
            kept.append(r)
        else:
            inside.setdefault(owner.id, []).append(r)
    for line in lines:
        if line.id in inside and not line.edited:
            line.words = _boxed_words(line.words, inside[line.id])
    return kept
