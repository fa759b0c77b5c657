"""history.csv holds one row an epoch, even when a run stopped between logging an epoch and checkpointing it."""

import csv

from training.train import log_history


def _rows(path):
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _row(epoch, score):
    return {"epoch": epoch, "step": 300 * epoch, "loss": 1.0, "val_score": round(score, 4)}


def test_an_epoch_logged_again_replaces_its_row_and_drops_later_ones(tmp_path):
    history = tmp_path / "history.csv"
    for epoch in (1, 2, 3):
        log_history(history, _row(epoch, 0.1 - epoch / 100))
    # the run was stopped after logging epoch 3 and resumed from its checkpoint at step 450 (within epoch 2)
    log_history(history, _row(2, 0.5))
    rows = _rows(history)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert rows[1]["val_score"] == "0.5"
    log_history(history, _row(3, 0.6))
    assert [(r["epoch"], r["val_score"]) for r in _rows(history)] == [("1", "0.09"), ("2", "0.5"), ("3", "0.6")]
    assert not (tmp_path / "history.csv.tmp").exists()


def test_a_file_begun_before_a_column_existed_keeps_its_header(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text("epoch,step,loss\n1,300,2.5\n")
    log_history(history, {**_row(2, 0.2), "new_column": 7})
    assert history.read_text().splitlines() == ["epoch,step,loss", "1,300,2.5", "2,600,1.0"]
