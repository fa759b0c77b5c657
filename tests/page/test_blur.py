"""model.blur.gaussian_blur gives cv2.GaussianBlur's result (to float rounding) on every path."""

import cv2
import numpy as np
import pytest

from model.blur import gaussian_blur, kernel_size


@pytest.mark.parametrize(("shape", "sx", "sy"), [
    ((128, 1900), 12.0, 15.0),  # an IAM line: both passes as products
    ((100, 1500), 9.6, 12.0),
    ((64, 900), 2.0, 7.5),  # a narrow horizontal kernel: OpenCV's row filter
    ((40, 30), 20.0, 25.0),  # kernels wider than the image: borders folded several times
    ((1, 200), 12.0, 15.0),
    ((50, 1), 12.0, 15.0),
    ((600, 300), 12.0, 15.0),  # much taller than the vertical kernel: OpenCV
    ((10, 300), 0.5, 0.5),
])
def test_matches_opencv(shape, sx, sy):
    rng = np.random.default_rng(sum(shape))
    image = (rng.random(shape) > 0.85).astype(np.float32)
    ref = cv2.GaussianBlur(image, (0, 0), sigmaX=sx, sigmaY=sy)
    out = gaussian_blur(image, sx, sy)
    assert out.shape == ref.shape and out.dtype == np.float32
    assert np.abs(out - ref).max() <= 1e-6 * max(1.0, float(ref.max()))


def test_kernel_size_is_the_one_opencv_picks():
    image = (np.random.default_rng(0).random((60, 400)) > 0.8).astype(np.float32)
    for sigma in (1.0, 2.3, 6.0, 12.0):
        k = kernel_size(sigma)
        auto = cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, sigmaY=sigma)
        assert np.array_equal(auto, cv2.GaussianBlur(image, (k, k), sigmaX=sigma, sigmaY=sigma))
        assert not np.array_equal(auto, cv2.GaussianBlur(image, (k - 2, k - 2), sigmaX=sigma, sigmaY=sigma))
