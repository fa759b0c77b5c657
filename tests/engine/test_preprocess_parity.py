"""Training's batch builder (augmentation off) and Recognizer prepare the same tensor for the same crop."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from model.charset import Charset
from model.recognizer import Recognizer
from tests.conftest import render_text
from training.pipeline import BatchMaker, RealImage, Source

IAM_LINES = Path("~/.cache/htr-desktop/data/iam-lines/IAM/image").expanduser()


def _crops() -> list[np.ndarray]:
    """A rendered line at several heights, plus real IAM lines when the local cache has them."""
    line = render_text("the same tensor, please")
    crops = [cv2.resize(line, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC) for f in (0.6, 1.0, 2.0, 4.0)]
    if IAM_LINES.is_dir():  # real handwriting is never committed: only used where it is cached
        for path in sorted(IAM_LINES.glob("d01-*.jpg"))[:4]:
            crops.append(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE))
    return crops


@pytest.fixture(scope="module")
def recognizer():
    return Recognizer.load()


@pytest.mark.parametrize("index", range(8))
def test_batch_builder_equals_recognizer(recognizer, index):
    crops = _crops()
    if index >= len(crops):
        pytest.skip("no cached IAM line for this slot")
    crop = crops[index]
    spec = recognizer.info.input_spec
    maker = BatchMaker(spec, Charset(), [Source("one", [RealImage(crop, "x")])], fonts=[], batch_size=1,
                       real_fraction=1.0, augment=False)
    batch, labels = maker.make(0)
    expected = recognizer.prepare(crop)
    width = expected.shape[1]
    assert crop.shape[0] != spec.height  # the crop is really rescaled by the shared path
    assert np.array_equal(batch[0, :, :width, 0], expected)
    assert not batch[0, :, width:, 0].any()  # the rest is paper padding
    assert labels.tolist() == [[Charset().encode("x")[0]]]
