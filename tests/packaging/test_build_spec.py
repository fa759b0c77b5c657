"""build.spec, read statically: what it keeps out of the bundle and what it ships."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "build.spec"


def spec_constant(name: str):
    """The literal value assigned to ``name`` at the top level of build.spec."""
    for node in ast.parse(SPEC.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"build.spec assigns no {name}")


@pytest.mark.parametrize("module", ["tensorflow", "keras", "tf_keras", "training", "tkinter", "PyQt5"])
def test_spec_excludes_training_and_unused_stacks(module):
    assert module in spec_constant("EXCLUDES")


def test_spec_ships_heic_decoding_with_its_licences_but_not_pils_other_codecs():
    assert {"pi_heif", "PIL.Image"} <= spec_constant("REQUIRED_MODULES")
    assert {"_pi_heif.", "pi_heif.libs/libheif-", "pi_heif.libs/libde265-"} <= spec_constant("REQUIRED_BINARY_PREFIXES")
    assert {"PIL._avif", "PIL._webp", "PIL._imagingcms", "PIL.ImageTk"} <= set(spec_constant("EXCLUDES"))
    assert '"pi_heif-licenses"' in SPEC.read_text(encoding="utf-8")


def test_spec_ships_resources_without_the_fine_tuning_model():
    text = SPEC.read_text(encoding="utf-8")
    assert 'collect_data_files("resources", excludes=DATA_EXCLUDES)' in text
    assert '"resources"' in text.split("hiddenimports=")[1].split("\n")[0]  # the package itself, for importlib
    assert "**/*.keras" in spec_constant("DATA_EXCLUDES")


def test_spec_drops_gtk_theme_and_unused_platform_plugins_but_keeps_xcb_wayland_offscreen():
    plugins = spec_constant("UNUSED_QT_PLUGINS")
    assert "platformthemes/libqgtk3" in plugins
    assert not [p for p in plugins if any(k in p for k in ("xcb", "wayland", "offscreen"))]


def test_spec_entry_is_the_console_script_outside_the_source_root():
    entry = ROOT / "packaging" / "entry.py"
    assert "from htr_desktop.__main__ import main" in entry.read_text(encoding="utf-8")
    assert 'os.path.join(SPECPATH, "packaging", "entry.py")' in SPEC.read_text(encoding="utf-8")


def test_build_script_uses_a_runtime_only_environment():
    script = (ROOT / "scripts" / "build.sh").read_text(encoding="utf-8")
    install = next(line for line in script.splitlines() if "-m pip install" in line)
    assert '"$ROOT"' in install and "[train" not in install and "pyinstaller>=6" in install
    assert "build.spec" in script and "smoke_bundle.py" in script


def test_spec_refuses_to_build_a_bundle_missing_the_app_or_model_runtime():
    required = spec_constant("REQUIRED_MODULES")
    assert {"htr_desktop.app", "htr_desktop.cli", "model.recognizer", "resources"} <= required
    assert any("cv2" in b for b in spec_constant("REQUIRED_BINARIES"))


def test_spec_drops_what_the_app_never_loads():
    assert "PySide6/Qt/translations/" in spec_constant("UNUSED_DATA")
    assert {"ssl", "_ssl", "PySide6.QtDBus"} <= set(spec_constant("EXCLUDES"))
    assert spec_constant("STRIP_WHEEL_LIBS") == ["ai_edge_litert/libpywrap_litert_common.so"]


def test_build_script_makes_and_smoke_tests_the_download_artifact():
    script = (ROOT / "scripts" / "build.sh").read_text(encoding="utf-8")
    assert ".tar.zst" in script and "htr-desktop.desktop" in script and "install-desktop-entry.sh" in script
    unpack = script.index('zstd -dc "$ARTIFACT"')
    assert 'smoke_bundle.py" "$UNPACKED/htr-desktop/htr-desktop"' in script[unpack:]
    desktop = (ROOT / "packaging" / "htr-desktop.desktop").read_text(encoding="utf-8")
    assert "Exec=htr-desktop %F" in desktop and "Icon=htr-desktop" in desktop


def test_bundle_opencv_is_built_with_only_the_modules_the_app_uses():
    """scripts/build.sh installs the minimal OpenCV (same version, cached wheel) unless HTR_OPENCV=pypi."""
    build = (ROOT / "scripts" / "build.sh").read_text(encoding="utf-8")
    assert "scripts/opencv_minimal.sh" in build and '"${HTR_OPENCV:-minimal}" = minimal' in build
    assert 'version("opencv-python-headless")' in build  # the same version as the registry wheel it replaces
    script = (ROOT / "scripts" / "opencv_minimal.sh").read_text(encoding="utf-8")
    assert "-DBUILD_LIST=core,imgproc,imgcodecs,videoio,python3" in script
    assert {"-DWITH_FFMPEG=OFF", "-DWITH_LAPACK=OFF", "-DWITH_V4L=ON", "-DBUILD_TIFF=ON", "-DBUILD_WEBP=ON",
            "-DBUILD_JPEG=ON", "-DBUILD_PNG=ON"} <= set(script.split())
    assert "nasm" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
