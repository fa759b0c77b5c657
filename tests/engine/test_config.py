"""Training configs: a ``base`` file's values under the config's own, and every shipped config loads."""

from pathlib import Path

import pytest

from training.config import TrainConfig


def test_base_values_are_overridden_by_the_config(tmp_path: Path) -> None:
    (tmp_path / "parent.toml").write_text('name = "parent"\nepochs = 3\nlearning_rate = 0.01\n')
    (tmp_path / "child.toml").write_text('base = "parent.toml"\nname = "child"\nepochs = 7\n')
    cfg = TrainConfig.load(tmp_path / "child.toml")
    assert (cfg.name, cfg.epochs, cfg.learning_rate) == ("child", 7, 0.01)


def test_a_base_without_its_own_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "parent.toml").write_text('name = "parent"\n')
    (tmp_path / "child.toml").write_text('base = "parent.toml"\nepochs = 7\n')
    with pytest.raises(ValueError, match="run name"):
        TrainConfig.load(tmp_path / "child.toml")


def test_a_base_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('base = "b.toml"\nname = "a"\n')
    (tmp_path / "b.toml").write_text('base = "a.toml"\nname = "b"\n')
    with pytest.raises(ValueError, match="loops"):
        TrainConfig.load(tmp_path / "a.toml")


@pytest.mark.parametrize("path", sorted(Path("training/configs").glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_configs_load(path: Path) -> None:
    assert TrainConfig.load(path).name
