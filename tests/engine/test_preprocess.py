import cv2
import numpy as np
import pytest

from model.imageio import ImageError
from model.preprocess import InputSpec, has_ink, pad_batch, prepare_line

SPEC = InputSpec(height=32, max_width=1600)


def test_output_shape_and_range(line_image):
    x = prepare_line(line_image, SPEC)
    assert x.dtype == np.float32 and x.shape[0] == 32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert has_ink(x)


def test_crop_to_ink_ignores_margins(line_image):
    wide = cv2.copyMakeBorder(line_image, 100, 100, 300, 300, cv2.BORDER_CONSTANT, value=245)
    a, b = prepare_line(line_image, SPEC), prepare_line(wide, SPEC)
    assert abs(a.shape[1] - b.shape[1]) <= 2


def test_uneven_illumination_is_flattened(line_image):
    ramp = np.linspace(0.35, 1.0, line_image.shape[1])[None, :]
    dark = (line_image.astype(np.float32) * ramp).astype(np.uint8)
    a, b = prepare_line(line_image, SPEC), prepare_line(dark, SPEC)
    w = min(a.shape[1], b.shape[1])
    assert np.abs(a[:, :w] - b[:, :w]).mean() < 0.08


def test_blank_image_gives_blank_tensor():
    x = prepare_line(np.full((50, 200), 250, np.uint8), SPEC)
    assert x.shape == (32, SPEC.min_width) and not has_ink(x)


def test_colour_and_float_inputs(line_image):
    bgr = cv2.cvtColor(line_image, cv2.COLOR_GRAY2BGR)
    assert np.allclose(prepare_line(bgr, SPEC), prepare_line(line_image, SPEC), atol=0.02)
    assert prepare_line(line_image.astype(np.float32) / 255.0, SPEC).shape == prepare_line(line_image, SPEC).shape


@pytest.mark.parametrize("bad", [np.zeros((0, 10), np.uint8), np.zeros((1, 1), np.uint8)])
def test_empty_or_tiny_raise(bad):
    with pytest.raises(ImageError):
        prepare_line(bad, SPEC)


def test_huge_line_is_clamped_to_max_width():
    img = np.full((40, 40000), 255, np.uint8)
    img[10:30, ::50] = 0
    assert prepare_line(img, SPEC).shape[1] == SPEC.max_width


def test_single_short_word_min_width():
    img = np.full((60, 20), 255, np.uint8)
    img[20:40, 8:12] = 0
    assert prepare_line(img, SPEC).shape[1] >= SPEC.min_width


def test_pad_batch_right_pads_with_paper(line_image):
    a = prepare_line(line_image, SPEC)
    b = prepare_line(line_image[:, : line_image.shape[1] // 2], SPEC)
    batch = pad_batch([a, b], SPEC)
    assert batch.shape[0] == 2 and batch.shape[2] % SPEC.width_step == 0
    assert np.all(batch[1, :, b.shape[1]:, 0] == 0)


def test_ruled_line_is_removed(line_image):
    clean = prepare_line(line_image, SPEC)
    ruled = line_image.copy()
    h, w = ruled.shape
    ruled[h - 12: h - 10, :] = 30  # a rule under the text, across the crop
    framed = prepare_line(ruled, SPEC)
    assert abs(framed.shape[1] - clean.shape[1]) <= 3
    w_ = min(framed.shape[1], clean.shape[1])
    assert np.abs(framed[:, :w_] - clean[:, :w_]).mean() < 0.05


def test_clean_lines_unchanged_by_rule_removal(line_image):
    from model.preprocess import normalize_illumination, remove_rules

    ink = normalize_illumination(line_image)
    assert np.array_equal(remove_rules(ink), ink)


def test_huge_line_images_are_reduced_before_preprocessing():
    from model.preprocess import reduce_huge

    big = np.full((3000, 9000), 250, np.uint8)
    small = reduce_huge(big, max_pixels=1_000_000)
    assert small.shape[0] * small.shape[1] <= 1_000_000
    assert abs(small.shape[1] / small.shape[0] - 3.0) < 0.01
    line = np.full((40, 120), 250, np.uint8)
    assert reduce_huge(line) is line


def test_a_personal_stretch_widens_the_input_and_is_stored_only_when_used(line_image):
    from dataclasses import replace

    wide = replace(SPEC, x_scale=1.5)
    a, b = prepare_line(line_image, SPEC), prepare_line(line_image, wide)
    assert abs(b.shape[1] - 1.5 * a.shape[1]) <= 2 and b.shape[0] == a.shape[0]
    assert "x_scale" not in SPEC.to_json() and InputSpec.from_json(SPEC.to_json()) == SPEC
    assert InputSpec.from_json(wide.to_json()) == wide
    with pytest.raises(ValueError, match="x_scale"):
        InputSpec.from_json({**SPEC.to_json(), "x_scale": 40})
