"""A Gaussian blur of a float32 image as matrix products: cv2.GaussianBlur's result (to float rounding), faster
for the wide, short kernels of word finding (3.5 -> 1.5 ms CPU for a held-back IAM line's mask)."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

#: Below these kernel sizes, or for images much taller than the vertical kernel, OpenCV's filter is faster.
MIN_KERNEL = 25
BLOCK = 32  # output columns per product of the horizontal pass (fastest measured on IAM lines)


def kernel_size(sigma: float) -> int:
    """The kernel size cv2.GaussianBlur picks for a float image and ``sigma`` (ksize (0, 0))."""
    return int(round(sigma * 8 + 1)) | 1


def reflect101(index: np.ndarray, n: int) -> np.ndarray:
    """Indices folded into [0, n) as OpenCV's BORDER_REFLECT_101 does (repeatedly, for kernels wider than n)."""
    if n == 1:
        return np.zeros_like(index)
    period = 2 * (n - 1)
    index = np.abs(index) % period
    return np.where(index >= n, period - index, index)


def _kernel(sigma: float) -> np.ndarray:
    return cv2.getGaussianKernel(kernel_size(sigma), sigma, cv2.CV_32F).ravel()


@lru_cache(maxsize=32)
def _vertical(n: int, sigma: float) -> np.ndarray:
    """(n, n) matrix of the vertical pass, borders folded in."""
    g = _kernel(sigma)
    r = len(g) // 2
    cols = reflect101(np.arange(n)[:, None] + np.arange(len(g))[None, :] - r, n)
    flat = (np.arange(n)[:, None] * n + cols).ravel()
    return np.bincount(flat, weights=np.tile(g, n), minlength=n * n).reshape(n, n).astype(np.float32)


@lru_cache(maxsize=32)
def _horizontal(sigma: float) -> np.ndarray:
    """(BLOCK + k - 1, BLOCK) banded matrix: one block of output columns from its padded input columns."""
    g = _kernel(sigma)
    band = np.zeros((BLOCK + len(g) - 1, BLOCK), np.float32)
    for j in range(BLOCK):
        band[j: j + len(g), j] = g
    return band


def gaussian_blur(image: np.ndarray, sigma_x: float, sigma_y: float) -> np.ndarray:
    """``cv2.GaussianBlur(image, (0, 0), sigma_x, sigmaY=sigma_y)`` for a float32 image (default border)."""
    h, w = image.shape
    ky, kx = kernel_size(sigma_y), kernel_size(sigma_x)
    if ky < MIN_KERNEL or h > 4 * ky:
        return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma_x, sigmaY=sigma_y)
    v = _vertical(h, float(sigma_y)) @ image
    if kx < MIN_KERNEL:
        return cv2.sepFilter2D(v, cv2.CV_32F, _kernel(sigma_x), np.ones(1, np.float32))
    r = kx // 2
    index = np.arange(-r, w + r)
    padded = np.concatenate([v[:, reflect101(index[:r], w)], v, v[:, reflect101(index[r + w:], w)]], axis=1)
    band = _horizontal(float(sigma_x))
    out = np.empty_like(v)
    for a in range(0, w, BLOCK):
        b = min(w, a + BLOCK)
        np.matmul(padded[:, a: b + 2 * r], band[: b - a + 2 * r, : b - a], out=out[:, a:b])
    return out
