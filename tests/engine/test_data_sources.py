"""What a training config's data settings load: the sources, their shares, the counts written for the run."""

import json

import cv2

from model.charset import Charset
from model.preprocess import InputSpec
from tests.conftest import render_text
from training.config import TrainConfig
from training.data_sources import load_data


def _folder(path, texts):
    path.mkdir()
    rows = []
    for i, text in enumerate(texts):
        cv2.imwrite(str(path / f"{i}.png"), render_text(text))
        rows.append(f"{i}.png\t{text}")
    (path / "labels.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def _load(tmp_path, **settings):
    fonts = tmp_path / "no-fonts"
    fonts.mkdir(exist_ok=True)
    cfg = TrainConfig(name="t", run_dir=str(tmp_path / "runs"), fonts_dir=str(fonts), val_font_lines=0,
                      extra_folders=(_folder(tmp_path / "extra", ["one line", "two"]),), **settings)
    sources, val_sets, _ = load_data(cfg, Charset(), InputSpec(height=32))
    counts = json.loads((cfg.checkpoint_dir / "data.json").read_text())
    return {s.name: (len(s.items), s.weight) for s in sources}, counts


def test_other_folders_are_a_source_of_their_own_with_their_share(tmp_path):
    other = _folder(tmp_path / "other", ["ete accorde", "Jeudi trois", "huit"])
    sources, counts = _load(tmp_path, other_folders=(other,), other_weight=0.1, line_weight=0.5)
    assert sources["lines"] == (2, 0.5)  # extra_folders join the lines
    assert sources["other"] == (3, 0.1)
    assert counts["extra"] == 2 and counts["other"] == 3


def test_other_folders_without_a_share_are_not_read(tmp_path):
    other = _folder(tmp_path / "other", ["unused"])
    sources, counts = _load(tmp_path, other_folders=(other,))
    assert sources["other"] == (0, 0.0) and "other" not in counts
