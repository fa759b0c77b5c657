"""Shared fixtures: rendered handwriting-like images, a tiny trained bundle."""

from __future__ import annotations

import os
import sys
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_DRIVER", "PySide6")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fast_tests_leave_tensorflow_alone(request: pytest.FixtureRequest):  # noqa: ANN202 - a generator fixture
    """``python -m tests`` runs the fast tests in a process without TensorFlow: with libsane's backends beside it,
    ``sane.get_devices()`` segfaults there (tests/__main__.py). A test that loads it must be marked slow."""
    yield
    if request.config.getoption("markexpr") == "not slow" and "tensorflow" in sys.modules:
        pytest.fail("TensorFlow was imported in the fast tests' process (by this test or an earlier one): "
                    "mark the test that imports it @pytest.mark.slow")


def render_text(text: str, height: int = 80, scale: float = 1.4, thickness: int = 3) -> np.ndarray:
    """A gray uint8 image of text in OpenCV's script font (dark ink on light paper)."""
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, scale, thickness)
    img = np.full((max(height, h + base + 20), w + 40), 245, np.uint8)
    cv2.putText(img, text, (20, h + 10), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, scale, 20, thickness, cv2.LINE_AA)
    return img


def rendered_sets(monkeypatch: pytest.MonkeyPatch, folder: Any, texts: list[str], names: tuple[str, ...] = ("fonts",)
                  ) -> list[Any]:
    """Lines rendered by ``render_text`` into ``folder`` (a Path), made the samples of the validation sets ``names``
    (``training.validation.SETS``; the real sets are not in the repository); returns the samples."""
    from training import validation
    from training.datasets import Sample

    samples = []
    for i, text in enumerate(texts):
        path = folder / f"line-{i}.png"
        cv2.imwrite(str(path), render_text(text))
        samples.append(Sample(path, text))
    for name in names:
        monkeypatch.setitem(validation.SETS, name, validation.SETS[name]._replace(samples=lambda: samples))
    return samples


def encode_heic(image: np.ndarray, orientation: int = 1) -> bytes:
    """An iPhone-like HEIC (HEVC, x265 through pillow-heif, a dev dependency) of a gray/RGB/RGBA uint8 image."""
    import io

    import pillow_heif
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    pillow_heif.from_pillow(Image.fromarray(image).convert("RGBA" if image.ndim == 3 and image.shape[2] == 4 else "RGB")
                            ).save(buf, format="HEIF", quality=90, exif=exif.tobytes())
    return buf.getvalue()


@pytest.fixture
def line_image() -> np.ndarray:
    return render_text("hello world")


@pytest.fixture
def line_png(tmp_path, line_image):
    path = tmp_path / "line.png"
    cv2.imwrite(str(path), line_image)
    return path


def widths_read(rec: Any) -> list[int]:  # (a Recognizer)
    """Record the width of every input the network runs on."""
    widths: list[int] = []
    run = rec.logits

    def logits(batch: np.ndarray) -> np.ndarray:
        widths.extend([batch.shape[2]] * batch.shape[0])
        return run(batch)

    rec.logits = logits
    return widths
