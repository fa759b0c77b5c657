"""One line in an image is one line: not split into its x-height band, ascenders and descenders (nor a page)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from model.document import prepare_page, remove_ruling
from model.page import choose_layout, clear_cache, segment

SIMPLEX, SCRIPT = cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX


def write(words: list[str], font: int, drift: int, height: int = 110, top: int = 60) -> np.ndarray:
    """Words in one line, each ``drift`` px lower than the last (a baseline that wanders)."""
    img = np.full((height, 60 + 200 * len(words)), 245, np.uint8)
    x = 20
    for i, word in enumerate(words):
        cv2.putText(img, word, (x, top + drift * i), font, 1.2, 20, 2, cv2.LINE_AA)
        x += cv2.getTextSize(word, font, 1.2, 2)[0][0] + 18
    return img[:, : x + 10]


def stack(*rows: np.ndarray) -> np.ndarray:
    """Line images one under the other, padded with paper to the widest."""
    width = max(r.shape[1] for r in rows)
    return np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1])), constant_values=245) for r in rows])


def one_line(img: np.ndarray) -> bool:
    """The segmentation finds one line holding nearly all the ink."""
    clear_cache()
    seg = segment(img)
    return len(seg.lines) == 1 and len(seg.lines[0].ys) >= 0.95 * int(seg.page.binary.sum())


@pytest.mark.parametrize("words, font, drift", [
    (["Tiny", "ideas,", "fit"], SIMPLEX, 0),  # split into 10 lines before
    (["a", "big", "yellow", "kite"], SIMPLEX, 4),
    (["Tiny", "ideas,", "fit"], SIMPLEX, -4),
    (["Tiny", "ideas,", "fit"], SCRIPT, -4),
    (["Tiny", "ideas,", "fit"], SCRIPT, 4),
])
def test_a_line_of_separate_letters_is_one_line(words, font, drift):
    img = write(words, font, drift)
    assert one_line(img)
    assert choose_layout(img) == "line"


def test_handwriting_font_lines_are_lines():
    from training.fonts import fetch_fonts
    from training.render_eval import render_samples

    fonts = fetch_fonts(("zeyada", "homemade-apple"))  # 27 and 19 of 40 such lines were "pages" before
    if len(fonts) < 2:
        pytest.skip("npm could not fetch @fontsource fonts")
    samples = render_samples(fonts, "lines", 24, seed=7)
    layouts = [choose_layout(img) for img, _, _ in samples]
    assert layouts.count("page") == 0, layouts
    assert sum(one_line(img) for img, _, _ in samples) >= 22


def test_short_pages_stay_pages():
    # two lines in a small image, a long line over a short one, a big word over a small-hand line
    two = stack(write(["quick", "brown", "fox"], SCRIPT, 0, 70, 45), write(["jumps", "over", "it"], SCRIPT, 0, 70, 45))
    short = stack(write(["several", "words", "here"], SIMPLEX, 0, 75, 50), write(["tail"], SIMPLEX, 0, 75, 40))
    mixed = np.full((170, 800), 245, np.uint8)
    cv2.putText(mixed, "habit,", (20, 80), SCRIPT, 2.6, 20, 5, cv2.LINE_AA)
    cv2.putText(mixed, "committee met once a week in the evenings", (60, 140), SCRIPT, 0.9, 20, 2, cv2.LINE_AA)
    for img in (two, short, mixed):
        clear_cache()
        assert len(segment(img).lines) == 2
        assert choose_layout(img) == "page"


def test_rule_search_spares_a_short_lines_letters():
    img = write(["minimum", "maximum"], SIMPLEX, 0, 60, 40)
    binary = (img < 128).astype(np.uint8)
    kept = remove_ruling(binary)
    assert kept.sum() >= 0.98 * binary.sum()  # the x-height band bridged across a quarter of the width is no rule
    ruled = binary.copy()
    ruled[50:52, 2:-2] = 1
    assert not remove_ruling(ruled)[50:52].any() and remove_ruling(ruled).sum() >= 0.95 * binary.sum()


def form_field(name: str, label: str = "NOM", clipped: bool = False) -> np.ndarray:
    """A name crop from a form: a small printed label over the handwritten name, maybe with the field above's
    print cut by the top edge."""
    img = np.full((60, 290), 245, np.uint8)
    cv2.putText(img, label, (32, 20), SIMPLEX, 0.4, 30, 1, cv2.LINE_AA)
    cv2.putText(img, name, (30, 46), SCRIPT, 0.8, 20, 2, cv2.LINE_AA)
    if clipped:
        cv2.putText(img, "CODE POSTAL : 7 5 0 1 4", (100, 6), SIMPLEX, 0.5, 30, 1, cv2.LINE_AA)
    return img


@pytest.mark.parametrize("name, label, clipped", [
    ("Caille", "NOM", False),  # all three were "pages" of two or three lines before
    ("Valentin", "PRENOM", False),
    ("Laffiche", "NOM", True),
])
def test_a_form_field_is_one_line(name, label, clipped):
    img = form_field(name, label, clipped)
    clear_cache()
    assert len(segment(img).lines) >= 2  # the label is a line of its own on the page ...
    assert choose_layout(img) in ("line", "word")  # ... but the image is one field, read as one line


def test_a_small_name_in_a_crops_margins_is_no_page():
    img = np.full((44, 324), 245, np.uint8)  # a name crop's size; 29 px of margin under the name ...
    cv2.putText(img, "Enzo", (12, 30), SCRIPT, 0.6, 20, 1, cv2.LINE_AA)
    clear_cache()
    assert choose_layout(img) in ("line", "word")  # ... is no room for lines on a big sheet ("page" before)


@pytest.mark.parametrize("level", [40, 70])
def test_a_thin_light_pen_name_keeps_its_ink(level):
    img = np.full((40, 390), 248, np.uint8)  # a form field's crop: a bold printed label and a fine pen's capitals
    cv2.putText(img, "NOM :", (4, 30), SIMPLEX, 0.45, 0, 2, cv2.LINE_AA)
    for i, letter in enumerate("LOUVENAZ"):
        cv2.putText(img, letter, (90 + 24 * i, 32), SIMPLEX, 0.75, level, 1, cv2.LINE_AA)
    pen = int((img[:, 85:] < 180).sum())
    clear_cache()
    # one-pixel strokes: the median filter erased them, and the rest went as "long straight strokes" (letters span
    # over 30 % of the crop's height): 70 and 34 of 474 and 458 pen pixels were left before
    assert prepare_page(img).binary[:, 85:].sum() >= 0.5 * pen
    assert choose_layout(img) == "line"
