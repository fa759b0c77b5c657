"""Training never sees a Debian handwriting font: they are kept for evaluation."""

from __future__ import annotations

from pathlib import Path

from training.fonts import DEBIAN_HANDWRITING, FONTSOURCE_FAMILIES, is_reserved
from training.pipeline import font_paths


def test_the_fetched_families_exclude_the_debian_ones():
    assert not [f for f in FONTSOURCE_FAMILIES if is_reserved(Path(f + ".woff2"))]
    assert "dancing-script" in DEBIAN_HANDWRITING and "dancing-script" not in FONTSOURCE_FAMILIES


def test_a_debian_font_in_the_font_folder_is_skipped(tmp_path):
    for name in ("caveat.woff2", "dancing-script.woff2", "Kristi.ttf", "NanumPen.ttf", "dkg.ttf", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in font_paths(str(tmp_path))] == ["caveat.woff2"]


def test_the_held_out_validation_families_are_never_trained_on(tmp_path):
    from training.fonts import VALIDATION_FAMILIES, is_validation

    assert not set(VALIDATION_FAMILIES) & set(FONTSOURCE_FAMILIES)
    assert not [f for f in VALIDATION_FAMILIES if is_reserved(Path(f + ".woff2"))]
    for name in ("caveat.woff2", "montez.woff2", "Sofadi-One.woff2", "yomogi.ttf"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in font_paths(str(tmp_path))] == ["caveat.woff2"]
    assert is_validation(Path("ms-madi.woff2")) and not is_validation(Path("montezuma.woff2"))


def test_the_fonts_validation_set_renders_the_held_out_fonts_the_same_way_each_time():
    import pytest

    from training.data_sources import held_out_font_lines
    from training.fonts import VALIDATION_FAMILIES, fetch_fonts, validation_font_dir

    if len(fetch_fonts(VALIDATION_FAMILIES, dest=validation_font_dir())) < len(VALIDATION_FAMILIES):
        pytest.skip("npm could not fetch the held-out @fontsource fonts")
    first, again = held_out_font_lines(12), held_out_font_lines(12)
    assert len(first) == 12 and [r.text for r in first] == [r.text for r in again]
    assert all((a.image == b.image).all() for a, b in zip(first, again, strict=True))
    assert all(r.image.ndim == 2 and r.image.shape[0] >= 16 and r.text.strip() for r in first)
