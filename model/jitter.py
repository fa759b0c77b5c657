"""Mild, writer-preserving distortions of a line image, to stretch a handful of corrected lines for adaptation."""

from __future__ import annotations

import cv2
import numpy as np

from model.imageio import to_gray


def jitter(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A slightly re-slanted, re-scaled, rotated copy of ``image`` with thinner or thicker strokes (8-bit gray).

    Much milder than the training module's augmentation: the point is more of the same hand, not other hands.
    """
    gray = to_gray(image)
    h, w = gray.shape
    pad = max(2, h // 4)
    gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=int(np.median(gray)))
    H, W = gray.shape
    shear = rng.uniform(-0.15, 0.15)
    sx, sy = rng.uniform(0.88, 1.12), rng.uniform(0.92, 1.08)
    angle = np.deg2rad(rng.uniform(-1.0, 1.0))
    m = np.array([[sx * np.cos(angle), -np.sin(angle) * sy + shear * sy, 0.0],
                  [sx * np.sin(angle), sy * np.cos(angle), 0.0]])
    out_w = int(W * sx + abs(shear) * H) + 2
    m[:, 2] = np.array([out_w / 2, H / 2]) - m[:, :2] @ np.array([W / 2, H / 2])
    out = cv2.warpAffine(gray, m, (out_w, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    r = rng.random()
    if r < 0.4:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2, 2) if h < 80 else (3, 3))
        out = cv2.erode(out, k) if r < 0.2 else cv2.dilate(out, k)  # dark ink on light paper: erode thickens
    return np.asarray(out, dtype=np.uint8)
