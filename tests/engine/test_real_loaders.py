"""Loaders for the real data of model 0.2: IAM words.txt with form filter, rebuilt lines, Kaggle names."""

import cv2
import numpy as np

from training.datasets import (
    group_lines,
    iam_word_samples,
    line_text,
    read_form_list,
    read_iam_word_boxes,
    read_kaggle_csv,
    split_kaggle,
)
from training.iam_lines import compose_line, rebuild_iam_lines

WORDS_TXT = """#--- words.txt ---#
# format: a01-000u-00-00 ok 154 408 768 27 51 AT A
a01-000u-00-00 ok 154 100 50 30 20 AT He
a01-000u-00-01 ok 154 140 48 40 24 BEZ 's
a01-000u-00-02 err 154 190 52 20 18 NN right
a01-000u-00-03 ok 154 215 52 6 16 . .
a01-000u-01-00 ok 154 100 120 40 20 NN next
b02-000-00-00 ok 154 100 50 30 20 NN other
"""


def _write_crops(root, listing):
    """A crop per listed word, filled with a distinct gray so pasting can be checked."""
    for i, w in enumerate(read_iam_word_boxes(listing, root)):
        w.path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(w.path), np.full((w.box[3], w.box[2]), 10 * i, np.uint8))


def test_words_txt_only_allowed_forms_and_statuses(tmp_path):
    listing = tmp_path / "words.txt"
    listing.write_text(WORDS_TXT)
    forms_file = tmp_path / "forms.txt"
    forms_file.write_text("# allowed\na01-000u\n")
    _write_crops(tmp_path / "words", listing)
    words = read_iam_word_boxes(listing, tmp_path / "words", read_form_list(forms_file))
    assert [w.ident for w in words] == [f"a01-000u-00-0{i}" for i in range(4)] + ["a01-000u-01-00"]
    assert words[1].box == (140, 48, 40, 24) and words[1].text == "'s" and not words[2].ok
    assert words[0].path == tmp_path / "words" / "a01" / "a01-000u" / "a01-000u-00-00.png"
    samples = iam_word_samples(words)  # the err word is not a training word
    assert [s.text for s in samples] == ["He", "'s", ".", "next"]


def test_empty_crop_is_skipped(tmp_path):
    listing = tmp_path / "words.txt"
    listing.write_text(WORDS_TXT)
    _write_crops(tmp_path / "words", listing)
    words = read_iam_word_boxes(listing, tmp_path / "words")
    words[0].path.write_bytes(b"")
    assert "He" not in [s.text for s in iam_word_samples(words)]


def test_line_text_joins_iam_tokenisation(tmp_path):
    listing = tmp_path / "words.txt"
    listing.write_text(WORDS_TXT)
    lines = group_lines(read_iam_word_boxes(listing, tmp_path))
    assert line_text(lines["a01-000u-00"]) == "He's right."
    assert list(lines) == ["a01-000u-00", "a01-000u-01", "b02-000-00"]


def test_compose_line_pastes_at_form_coordinates():
    a = np.full((20, 30), 50, np.uint8)
    b = np.full((10, 10), 200, np.uint8)
    b[0, 0] = 0
    page = compose_line([(a, (100, 50, 30, 20)), (b, (125, 45, 10, 10))], margin=5)
    assert page.shape == (20 + 5 + 2 * 5, 35 + 2 * 5)
    assert page[10, 10] == 50  # a's top-left at (x - x0, y - y0) = (5, 10)
    assert page[5, 30] == 0  # b's dark corner at (30, 5)
    assert page[12, 32] == 50  # overlap keeps the darker pixel
    assert page[0, 0] == 255  # paper


def test_rebuilt_lines_match_words_and_skip_incomplete_lines(tmp_path):
    listing = tmp_path / "words.txt"
    listing.write_text(WORDS_TXT)
    _write_crops(tmp_path / "words", listing)
    # a crop on disk that the (cut-off) listing lacks: line 01 would miss a word
    extra = tmp_path / "words" / "a01" / "a01-000u" / "a01-000u-01-01.png"
    cv2.imwrite(str(extra), np.zeros((5, 5), np.uint8))
    words = read_iam_word_boxes(listing, tmp_path / "words", {"a01-000u"})
    samples = rebuild_iam_lines(words, tmp_path / "rebuilt")
    assert [(s.path.name, s.text) for s in samples] == [("a01-000u-00.png", "He's right.")]
    image = cv2.imread(str(samples[0].path), cv2.IMREAD_GRAYSCALE)
    assert image.shape == (24 + 2 * 12, 121 + 2 * 12)  # union of the boxes plus the margin
    again = rebuild_iam_lines(words, tmp_path / "rebuilt")  # cached: same result
    assert again == samples


def test_kaggle_names_with_separate_image_folder(tmp_path):
    csv_file = tmp_path / "written_name_train_v2.csv"
    csv_file.write_text("FILENAME,IDENTITY\nTRAIN_00001.jpg,BALTHAZAR\nTRAIN_00002.jpg,UNREADABLE\n"
                        "TRAIN_00003.jpg,EMPTY\nTRAIN_00004.jpg,\nTRAIN_10001.jpg,  jean  luc \n"
                        "TRAIN_99999.jpg,ABSENT\n")
    images = tmp_path / "train_v2_test"
    images.mkdir()
    for n in ("TRAIN_00001.jpg", "TRAIN_00002.jpg", "TRAIN_10001.jpg"):
        cv2.imwrite(str(images / n), np.full((20, 40), 255, np.uint8))
    samples = read_kaggle_csv(csv_file, images, only_existing=True)
    assert [(s.path.name, s.text) for s in samples] == [("TRAIN_00001.jpg", "BALTHAZAR"),
                                                        ("TRAIN_10001.jpg", "jean luc")]
    assert all(s.path.parent == images for s in samples)
    train, val = split_kaggle(samples, first_val=10001)
    assert [s.path.name for s in train] == ["TRAIN_00001.jpg"] and [s.path.name for s in val] == ["TRAIN_10001.jpg"]
    assert len(read_kaggle_csv(csv_file, images)) == 3  # without the folder filter the absent image stays
