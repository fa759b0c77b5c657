"""The page generator's ground truth and the evaluation's matching."""

from __future__ import annotations

import json

import numpy as np

from training.page_eval import SegScores, iou, main, match_boxes
from training.pages import PHOTO_STYLE, compose_page, text_source, write_pages


def test_iou_and_matching():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert abs(iou((0, 0, 10, 10), (5, 0, 10, 10)) - 50 / 150) < 1e-9
    truth = [(0, 0, 100, 20), (0, 30, 100, 20)]
    assert match_boxes(truth, [(0, 31, 100, 20), (0, 0, 98, 20)]) == [(0, 1), (1, 0)]
    scores = SegScores()
    scores.add(truth, [(0, 31, 100, 20), (0, 0, 98, 20)], 0.1)
    assert scores.as_dict()["reading_order_ok"] == 0.0  # matched, but in the wrong order
    assert scores.as_dict()["line_recall"] == 1.0


def test_generated_boxes_hold_the_ink():
    page = compose_page(text_source(2), PHOTO_STYLE, seed=5)
    assert 5 <= len(page.texts) <= 12 and len(page.boxes) == len(page.texts) == len(page.crops)
    img = page.image.astype(np.float32)
    for x, y, w, h in page.boxes:
        inside = img[y: y + h, x: x + w]
        assert inside.size and inside.min() < np.median(img) - 40  # dark ink inside every box
    tops = [b[1] for b in page.boxes]
    assert tops == sorted(tops)


def test_page_eval_command(tmp_path, capsys):
    assert main(["--source", "text", "--pages", "3", "--seed", "2", "--save", str(tmp_path)]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["pages"] == 3 and figures["line_recall"] >= 0.9
    truth = json.loads((tmp_path / "page-000.json").read_text())
    assert truth["lines"] and {"box", "text"} <= set(truth["lines"][0])
    assert (tmp_path / "page-002.png").exists()
    write_pages([], tmp_path / "empty")
