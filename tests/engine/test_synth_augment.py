import random

import numpy as np
import pytest

from model.charset import Charset
from model.preprocess import InputSpec, prepare_line
from training.augment import augment
from training.fonts import fetch_fonts
from training.synth import TextSampler, can_render, load_fonts, render

CS = Charset()


@pytest.fixture(scope="module")
def fonts():
    paths = fetch_fonts(("caveat", "kalam", "homemade-apple"))
    if not paths:
        pytest.skip("npm could not fetch @fontsource fonts")
    return load_fonts(paths, CS)


def test_text_sampler_stays_in_charset():
    ts = TextSampler(CS, seed=3)
    texts = [ts.sample() for _ in range(300)]
    for t in texts:
        assert t and CS.filter(t) == t
    assert any(" " in t for t in texts) and any(t.isupper() for t in texts)


def test_render_and_normalised_height(fonts):
    rng = random.Random(0)
    heights = []
    for f in fonts:
        assert can_render("Hello, world!", f)
        img = render("xox", f, rng)
        assert img.dtype == np.uint8 and img.min() < 100 and img.max() == 255
        ink_rows = np.nonzero((img < 128).any(axis=1))[0]
        heights.append(ink_rows[-1] - ink_rows[0])
    assert max(heights) / min(heights) < 1.6  # glyph height normalised across fonts


def test_augment_keeps_text_readable_shape(fonts):
    rng = np.random.default_rng(0)
    img = render("handwriting line", fonts[0], random.Random(1))
    spec = InputSpec()
    for _ in range(10):
        out = augment(img, rng)
        assert out.dtype == np.uint8 and out.ndim == 2
        x = prepare_line(out, spec)
        assert x.shape[0] == spec.height and x.max() > 0.5


def test_rendered_lines_keep_all_their_ink_inside(fonts):
    """A drifting baseline or a swash must not run off the canvas (the label would name unseen ink)."""
    sampler, rng = TextSampler(CS, seed=5), random.Random(2)
    for i in range(300):
        font = fonts[i % len(fonts)]
        text = sampler.line()
        if not can_render(text, font):
            continue
        img = render(text, font, rng)
        ink = img < 200
        assert not (ink[0].any() or ink[-1].any() or ink[:, 0].any() or ink[:, -1].any()), text


def test_lines_in_block_capitals_only_when_asked():
    plain = [TextSampler(CS, seed=4).line() for _ in range(1)] + [TextSampler(CS, seed=4, caps_lines=0.0).line()]
    assert plain[0] == plain[1]  # the default draws the same lines as before
    caps = TextSampler(CS, seed=4, caps_lines=1.0)
    lines = [caps.line() for _ in range(50)]
    assert all(t == t.upper() and any(c.isalpha() for c in t) for t in lines)
    some = TextSampler(CS, seed=4, caps_lines=0.3)
    shares = sum(t == t.upper() for t in (some.line() for _ in range(400))) / 400
    assert 0.2 < shares < 0.45


def test_synthetic_batches_carry_the_capitals_share(fonts):
    from training.pipeline import BatchMaker

    maker = BatchMaker(InputSpec(height=32), CS, [], fonts, 4, 0.0, synth_line_fraction=1.0, synth_caps_lines=1.0)
    _, labels = maker.make(0)
    texts = [CS.decode([i for i in row if i]) for row in labels]
    assert len(texts) == 4 and all(t == t.upper() and " " in t for t in texts)


def test_tracking_crowds_and_spreads_letters_and_keeps_the_ink_inside(fonts):
    """Letters drawn tighter or looser than the font sets them: narrower / wider lines, no ink cut off."""
    text = "Rand guarantees these minimum"
    for font in fonts:
        widths = {}
        for t in (-0.22, 0.0, 0.3):
            img = render(text, font, random.Random(1), tracking=t)
            ink = img < 200
            assert not (ink[0].any() or ink[-1].any() or ink[:, 0].any() or ink[:, -1].any()), (font.path, t)
            cols = np.nonzero(ink.any(axis=0))[0]
            widths[t] = cols[-1] - cols[0]
        letters = len(text.replace(" ", "")) - len(text.split())  # gaps between letters
        assert widths[-0.22] < widths[0.0] - 0.15 * 16 * letters
        assert widths[0.3] > widths[0.0] + 0.25 * 16 * letters


@pytest.mark.parametrize("option", ["tracking", "jitter"])
def test_an_option_at_zero_draws_the_same_image_as_before(fonts, option):
    for font in fonts[:2]:
        a = render("Hello there, world", font, random.Random(7))
        b = render("Hello there, world", font, random.Random(7), **{option: 0.0})
        assert np.array_equal(a, b)


@pytest.mark.parametrize("share", ["synth_tracking", "synth_glyph_jitter"])
def test_synthetic_batches_crowd_or_jitter_letters_only_when_asked(fonts, share):
    """A share of 1 changes the batch; a share of 0 draws the batch a config without the option draws."""
    from training.pipeline import BatchMaker

    def batch(**options: float) -> np.ndarray:
        maker = BatchMaker(InputSpec(height=32), CS, [], fonts, 4, 0.0, synth_line_fraction=1.0, augment=False,
                           **options)
        return maker.make(3)[0]

    on, off = batch(**{share: 1.0}), batch(**{share: 0.0})
    assert on.shape != off.shape or not np.array_equal(on, off)
    assert np.array_equal(off, batch())


def test_glyph_jitter_moves_every_letter_and_keeps_the_ink_inside(fonts):
    """Each letter drawn with its own slant, turn and size: the same letters, drawn differently, none cut off."""
    text = "Rand guarantees these minimum 15/10/96"
    for font in fonts:
        plain = render(text, font, random.Random(2), tracking=-0.1)
        for amount in (0.5, 1.0):
            img = render(text, font, random.Random(2), tracking=-0.1, jitter=amount)
            ink = img < 200
            assert not (ink[0].any() or ink[-1].any() or ink[:, 0].any() or ink[:, -1].any()), (font.path, amount)
            # about as much ink as the letters drawn plain (a warp moves strokes; it neither drops nor doubles them)
            assert 0.8 < ink.sum() / (plain < 200).sum() < 1.25, (font.path, amount)
            cols = np.nonzero(ink.any(axis=0))[0]
            plain_cols = np.nonzero((plain < 200).any(axis=0))[0]
            assert abs((cols[-1] - cols[0]) - (plain_cols[-1] - plain_cols[0])) < 0.1 * (plain_cols[-1] - plain_cols[0])
        a = render(text, font, random.Random(2), jitter=1.0)
        b = render(text, font, random.Random(3), jitter=1.0)
        assert a.shape != b.shape or not np.array_equal(a, b)


def test_glyph_warp_is_the_identity_at_amount_zero_and_bounded_at_one():
    from training.synth import glyph_warp

    assert np.allclose(glyph_warp(random.Random(1), 0.0), [[1, 0, 0], [0, 1, 0]])
    for seed in range(50):
        warp = glyph_warp(random.Random(seed), 1.0)
        corner = warp[:, :2] @ np.array([16.0, -16.0]) + warp[:, 2]  # a letter's top right, one x-height up
        assert np.all(np.abs(corner - [16.0, -16.0]) < 0.5 * 16)
        assert not np.allclose(warp, [[1, 0, 0], [0, 1, 0]])


def test_ink_gaps_break_strokes_and_leave_the_paper_alone(fonts):
    from training.augment import _ink_gaps

    img = render("minimum handwriting", fonts[0], random.Random(4))
    ink = img < 128
    removed = []
    for seed in range(8):
        out = _ink_gaps(img, np.random.default_rng(seed))
        assert out.dtype == np.uint8 and out.shape == img.shape
        assert (out >= img).all()  # ink is only ever lifted, never added
        assert np.array_equal(out[~ink & (img == 255)], img[~ink & (img == 255)])
        removed.append(int((ink & (out >= 128)).sum()))
    # some ink goes, but only a small part of it: the words stay words
    assert max(removed) > 0 and sum(removed) / 8 < 0.3 * int(ink.sum())
    assert np.array_equal(_ink_gaps(img, np.random.default_rng(3)), _ink_gaps(img, np.random.default_rng(3)))


def test_augment_without_ink_gaps_draws_as_before(fonts):
    """``gaps=0`` must not draw from the generator, so older configs make the very same batches."""
    from training import augment as aug

    img = render("same as ever", fonts[1], random.Random(5))
    for seed in range(6):
        rng = np.random.default_rng(seed)
        reference = img
        if rng.random() < 0.85:
            reference = aug._geometry(reference, rng)
        if rng.random() < 0.5:
            reference = aug._elastic(reference, rng, rng.uniform(0.5, 2.0))
        reference = aug._photometric(aug._stroke(reference, rng), rng, 1.0)
        assert np.array_equal(augment(img, np.random.default_rng(seed), gaps=0.0), reference)
    gapped = [augment(img, np.random.default_rng(s), gaps=1.0) for s in range(6)]
    plain = [augment(img, np.random.default_rng(s)) for s in range(6)]
    assert any(g.shape != p.shape or not np.array_equal(g, p) for g, p in zip(gapped, plain))


def test_zones_resize_the_lower_case_against_the_capitals_and_keep_the_height(fonts):
    """The core (x-height) band grows or shrinks by the drawn factor; the crop keeps its size and its columns."""
    from training.augment import _zones, core_rows

    img = render("Hollow pebbles by the quay", fonts[0], random.Random(2))
    top, end = core_rows(img)
    core = end - top
    columns = np.flatnonzero((img < 128).any(axis=0))
    for factor in (0.6, 1.5):
        out = _zones(img, np.random.default_rng(0), (factor, factor))
        assert out.shape == img.shape and out.dtype == np.uint8
        moved = np.flatnonzero((out < 128).any(axis=0))  # only rows move: the writing is no wider or narrower
        assert abs(moved[0] - columns[0]) <= 1 and abs(moved[-1] - columns[-1]) <= 1
        new_top, new_end = core_rows(out)
        assert abs((new_end - new_top) - factor * core) <= 0.15 * factor * core + 2
    blank = np.full((40, 90), 255, np.uint8)
    assert np.array_equal(_zones(blank, np.random.default_rng(0)), blank)


def test_augment_without_zones_draws_as_before_and_with_them_differs(fonts):
    img = render("same as ever", fonts[1], random.Random(5))
    for seed in range(4):
        assert np.array_equal(augment(img, np.random.default_rng(seed), zones=0.0),
                              augment(img, np.random.default_rng(seed)))
    zoned = [augment(img, np.random.default_rng(s), zones=1.0) for s in range(4)]
    plain = [augment(img, np.random.default_rng(s)) for s in range(4)]
    assert all(z.shape != p.shape or not np.array_equal(z, p) for z, p in zip(zoned, plain))


def test_a_runs_zones_share_reaches_its_batches(fonts):
    from training.config import TrainConfig
    from training.pipeline import BatchMaker

    assert TrainConfig.load("training/configs/tiny.toml").augment_zones == 0.0
    assert TrainConfig.load("training/configs/tiny.toml", augment_zones=0.5).augment_zones == 0.5

    def batch(zones: float) -> np.ndarray:
        return BatchMaker(InputSpec(height=32), CS, [], fonts, 4, 0.0, synth_line_fraction=1.0, seed=7,
                          zones=zones).make(2)[0]

    on, off = batch(1.0), batch(0.0)
    assert on.shape != off.shape or not np.array_equal(on, off)


def test_x_scale_sets_how_much_narrower_or_wider_crops_are_drawn(fonts):
    """The same draws (slant, rotation, perspective) at another horizontal scale: only the width follows it."""
    from training import augment as aug

    img = render("narrow or wide", fonts[0], random.Random(3))
    pad = img.shape[0] // 2
    padded_w = img.shape[1] + 2 * pad
    for seed in range(4):
        narrow = aug._geometry(img, np.random.default_rng(seed), (0.6, 0.6))
        wide = aug._geometry(img, np.random.default_rng(seed), (1.6, 1.6))
        assert narrow.shape[0] == wide.shape[0] == img.shape[0] + 2 * pad
        assert abs((wide.shape[1] - narrow.shape[1]) - padded_w) <= 2
        ink_n, ink_w = np.flatnonzero((narrow < 128).any(0)), np.flatnonzero((wide < 128).any(0))
        ratio = (ink_w[-1] - ink_w[0]) / (ink_n[-1] - ink_n[0])
        assert 2.2 < ratio < 3.2  # 1.6 / 0.6 = 2.67, give or take the slant
    default = augment(img, np.random.default_rng(1))
    assert np.array_equal(default, augment(img, np.random.default_rng(1), x_scale=aug.X_SCALE))


def test_batches_are_drawn_at_the_runs_horizontal_scales(fonts):
    from training.pipeline import BatchMaker

    def width(scale: float) -> int:
        maker = BatchMaker(InputSpec(height=32), CS, [], fonts, 4, 0.0, synth_line_fraction=1.0, seed=7,
                           x_scale=(scale, scale))
        return sum(maker.make(step)[0].shape[2] for step in range(3))

    assert width(1.6) > 1.5 * width(0.6)


def test_a_config_needs_a_sensible_x_scale_range():
    from training.config import TrainConfig

    assert TrainConfig.load("training/configs/tiny.toml").augment_x_scale == (0.75, 1.25)
    assert TrainConfig.load("training/configs/tiny.toml", augment_x_scale=[0.6, 1.3]).augment_x_scale == (0.6, 1.3)
    for bad in ([1.3, 0.6], [0.0, 1.0], [1.0], [0.5, 1.0, 2.0]):
        with pytest.raises(ValueError, match="augment_x_scale"):
            TrainConfig.load("training/configs/tiny.toml", augment_x_scale=bad)


def test_batch_width_adds_paper_only_when_asked():
    from training.pipeline import batch_width

    rng = np.random.default_rng(0)
    assert {batch_width(200, rng, 0.0, 1600) for _ in range(50)} == {256}
    widths = [batch_width(200, rng, 1.0, 1600) for _ in range(200)]
    assert all(w % 64 == 0 and 256 + 64 <= w <= 256 + 512 for w in widths)
    assert len(set(widths)) == 8  # every amount from 64 to 512 px
    assert {batch_width(1580, rng, 1.0, 1600) for _ in range(20)} == {1600}  # never beyond the input's limit


def test_extra_paper_keeps_the_batches_crops_and_labels(fonts):
    """pad_extra draws from its own generator: the same crops and labels as without it, only wider."""
    from training.pipeline import BatchMaker

    def batch(share: float) -> tuple[np.ndarray, np.ndarray]:
        maker = BatchMaker(InputSpec(height=32), CS, [], fonts, 4, 0.0, synth_line_fraction=0.0,
                           pad_extra=share, seed=5)
        return maker.make(2)

    (tight, labels), (wide, wide_labels) = batch(0.0), batch(1.0)
    assert np.array_equal(labels, wide_labels)
    assert wide.shape[2] > tight.shape[2]
    assert np.array_equal(wide[:, :, : tight.shape[2]], tight) and not wide[:, :, tight.shape[2]:].any()


def test_batch_plan_names_what_each_batch_holds(fonts):
    """plan(step) says which source or synthetic kind batch ``step`` is drawn from (scripts/training_fit.py)."""
    from training.pipeline import BatchMaker, RealImage, Source

    def crops(text: str) -> list[RealImage]:
        return [RealImage(render(text, fonts[0], random.Random(1)), text)]

    sources = [Source("lines", crops("abc def"), 0.5), Source("names", crops("NAME"), 0.5)]
    maker = BatchMaker(InputSpec(height=32), CS, sources, fonts, 2, real_fraction=0.5, synth_line_fraction=0.5,
                       synth_form_fraction=0.5, augment=False, seed=3)
    labels = {"lines": "abc def", "names": "NAME"}
    seen = set()
    for step in range(40):
        label = maker.plan(step).label
        seen.add(label)
        _, ids = maker.make(step)
        texts = {CS.decode([int(c) for c in row if c]) for row in ids}
        if label in labels:
            assert texts == {labels[label]}
        else:
            assert label in ("synth-line", "synth-form", "synth-word")
            assert not texts & set(labels.values())
            if label == "synth-line":
                assert any(" " in t for t in texts)
    assert seen == {"lines", "names", "synth-line", "synth-form", "synth-word"}


def test_training_fit_scores_each_batch_kind(fonts):
    """scripts/training_fit.py: a reading that is always the truth scores 0 per kind, an empty reading 1."""
    import importlib.util
    from pathlib import Path

    from training.pipeline import BatchMaker, RealImage, Source

    path = Path(__file__).resolve().parents[2] / "scripts" / "training_fit.py"
    spec = importlib.util.spec_from_file_location("training_fit", path)
    fit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fit)

    crops = [RealImage(render("Mary", fonts[0], random.Random(1)), "Mary")]
    maker = BatchMaker(InputSpec(height=32), CS, [Source("names", crops, 1.0)], fonts, 2, real_fraction=0.5,
                       synth_line_fraction=0.5, augment=False, seed=3)
    steps = range(12)
    truths = {}
    for step in steps:  # the batches read_batches will build, each batch's labels keyed by its width
        x, y = maker.make(step)
        truths[x.tobytes()] = y

    def oracle(x):  # logits spelling each row's label with blanks between, as the CTC path of the truth
        labels = truths[np.asarray(x).tobytes()]
        out = np.full((len(labels), 2 * labels.shape[1] + 1, CS.num_classes), -9.0, np.float32)
        out[:, :, 0] = 9.0
        for i, row in enumerate(labels):
            for j, c in enumerate(row[row > 0]):
                out[i, 2 * j + 1, 0], out[i, 2 * j + 1, c] = -9.0, 9.0
        return out

    def blank(x):
        return np.zeros((np.asarray(x).shape[0], 8, CS.num_classes), np.float32) + np.eye(CS.num_classes)[0]

    kinds = {maker.plan(s).label for s in steps}
    assert "names" in kinds and len(kinds) >= 2
    assert fit.read_batches(oracle, maker, steps) == dict.fromkeys(sorted(kinds), 0.0)
    assert fit.read_batches(blank, maker, steps) == dict.fromkeys(sorted(kinds), 1.0)
