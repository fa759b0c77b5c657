"""The shipped sample line: a rendered (not dataset) handwriting image with its expected text."""

from __future__ import annotations

import importlib.util
import sys
from importlib import resources
from pathlib import Path

from model.imageio import load_image
from model.page import choose_layout

ROOT = Path(__file__).resolve().parents[2]


def load_smoke_module():
    spec = importlib.util.spec_from_file_location("smoke_bundle", ROOT / "scripts" / "smoke_bundle.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_sample_is_a_packaged_resource_line_image_with_its_text():
    samples = resources.files("resources") / "samples"
    image = load_image(str(samples / "sample-line.png"))
    text = (samples / "sample-line.txt").read_text(encoding="utf-8").strip()
    assert len(text.split()) >= 4
    assert image.shape[1] > 3 * image.shape[0]
    assert image.min() < 80 and image.max() > 200  # dark ink on light paper
    assert choose_layout(image) == "line"


def test_smoke_cer_is_edit_distance_over_expected_length():
    smoke = load_smoke_module()
    assert smoke.edit_distance("kitten", "sitting") == 3
    assert smoke.edit_distance("", "abc") == 3
    assert smoke.cer("Meet me at noon", "Meet me at noon") == 0.0
    assert smoke.cer("abcd", "abed") == 0.25
    assert smoke.cer("", "") == 0.0


def test_smoke_environment_drops_python_and_qt_overrides(monkeypatch):
    smoke = load_smoke_module()
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("QT_PLUGIN_PATH", "/somewhere")
    env = smoke.clean_env(QT_QPA_PLATFORM="offscreen")
    assert "PYTHONPATH" not in env and "QT_PLUGIN_PATH" not in env
    assert env["QT_QPA_PLATFORM"] == "offscreen"


def test_smoke_ctrl_c_known_gap_is_only_a_traceback_wholly_in_the_bootstrap():
    smoke = load_smoke_module()
    frozen = ('Traceback (most recent call last):\n  File "PyInstaller/loader/pyiboot01_bootstrap.py", line 1\n'
              '  File "<frozen importlib._bootstrap_external>", line 147, in _path_stat\nKeyboardInterrupt')
    ours = frozen.replace('"<frozen importlib._bootstrap_external>"', '"htr_desktop/cli.py"')
    assert smoke.in_bootstrap(frozen)
    assert smoke.in_bootstrap(frozen.replace("PyInstaller/loader/pyiboot01_bootstrap.py", "enum.py"))
    assert not smoke.in_bootstrap(frozen.replace('"<frozen importlib._bootstrap_external>"', '"model/pool.py"'))
    assert not smoke.in_bootstrap(ours)
    assert not smoke.in_bootstrap("")
    assert not smoke.in_bootstrap(frozen.replace("KeyboardInterrupt", "ValueError: x"))


def test_smoke_ctrl_c_known_gap_also_covers_one_ignored_in_an_import_callback():
    smoke = load_smoke_module()
    # what CI saw once (session 17): the Ctrl+C landed in an import-lock callback, ignored; the command ran on
    ignored = ("Exception ignored in: <function _get_module_lock.<locals>.cb at 0x7f75833f9da0>\n"
               "Traceback (most recent call last):\n  File \"<frozen importlib._bootstrap>\", line 198, in cb\n"
               "KeyboardInterrupt:")
    assert smoke.ignored_in_bootstrap(ignored)
    assert not smoke.ignored_in_bootstrap(ignored.replace("<frozen importlib._bootstrap>", "model/pool.py"))
    assert not smoke.ignored_in_bootstrap(ignored.replace("Exception ignored in: ", ""))  # a traceback that ended it
    assert not smoke.ignored_in_bootstrap(ignored + "\nTraceback (most recent call last):\n  File \"x.py\"")
    assert not smoke.ignored_in_bootstrap("")
