import cv2
import numpy as np

from training.datasets import (
    detokenize_iam,
    read_folder,
    read_group_list,
    read_iam_ascii,
    read_iam_gt,
    read_kaggle_csv,
    split_by_groups,
)


def _img(path):
    cv2.imwrite(str(path), np.full((20, 40), 255, np.uint8))


def test_detokenize_iam():
    iam = 'hey presto ! " Bella Marie " ( Parlophone ) , ok'
    assert detokenize_iam(iam) == 'hey presto! "Bella Marie" (Parlophone), ok'
    assert detokenize_iam("it 's fine|really") == "it's fine really"


def test_iam_gt_format(tmp_path):
    (tmp_path / "image").mkdir()
    _img(tmp_path / "image" / "a01-000-00.jpg")
    gt = tmp_path / "gt.txt"
    gt.write_text("a01-000-00.jpg\tA MOVE to stop Mr. Gaitskell ,\n\nb02-001-01.jpg\tsecond line\n")
    samples = read_iam_gt(gt)
    assert [s.text for s in samples] == ["A MOVE to stop Mr. Gaitskell,", "second line"]
    assert samples[0].path.exists() and samples[0].group == "a01"
    assert [s.group for s in split_by_groups(samples, ["b02"])] == ["b02"]


def test_iam_lines_txt_format(tmp_path):
    root = tmp_path / "lines"
    (root / "a01" / "a01-000u").mkdir(parents=True)
    _img(root / "a01" / "a01-000u" / "a01-000u-00.png")
    listing = tmp_path / "lines.txt"
    listing.write_text("# comment\n"
                       "a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop|Mr.|Gaitskell\n"
                       "a01-000u-01 err 156 19 395 932 1850 105 bad|line\n")
    samples = read_iam_ascii(listing, root)
    assert len(samples) == 1
    assert samples[0].text == "A MOVE to stop Mr. Gaitskell"
    assert samples[0].path.exists()


def test_iam_words_txt_format(tmp_path):
    listing = tmp_path / "words.txt"
    listing.write_text("a01-000u-00-00 ok 154 408 768 27 51 AT A\n")
    samples = read_iam_ascii(listing, tmp_path)
    assert samples[0].text == "A" and samples[0].path.name == "a01-000u-00-00.png"


def test_kaggle_csv(tmp_path):
    csv = tmp_path / "written_name_train.csv"
    csv.write_text("FILENAME,IDENTITY\nTRAIN_00001.jpg,BALTHAZAR\nTRAIN_00002.jpg,UNREADABLE\nTRAIN_00003.jpg,\n")
    samples = read_kaggle_csv(csv, tmp_path)
    assert [(s.path.name, s.text) for s in samples] == [("TRAIN_00001.jpg", "BALTHAZAR")]


def test_folder_with_sidecars_and_labels_tsv(tmp_path):
    _img(tmp_path / "x.png")
    (tmp_path / "x.txt").write_text("hello there\n")
    _img(tmp_path / "y.png")  # no label: ignored
    assert [(s.path.name, s.text) for s in read_folder(tmp_path)] == [("x.png", "hello there")]
    (tmp_path / "labels.tsv").write_text("y.png\tsecond\n")
    assert [(s.path.name, s.text) for s in read_folder(tmp_path)] == [("y.png", "second")]


def test_group_list(tmp_path):
    p = tmp_path / "groups.txt"
    p.write_text("# allowed\nc06\nd01\n\n")
    assert read_group_list(p) == ["c06", "d01"]
