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
