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


def test_the_debian_fonts_found_in_session_22_are_reserved(tmp_path):
    # Debian's own file names: fonts-teluguvijayam, fonts-rufscript, fonts-leckerli-one, fonts-lobster
    for name in ("caveat.woff2", "LakkiReddy.ttf", "Rufscript010.ttf", "LeckerliOne-Regular.ttf", "Lobster.otf"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in font_paths(str(tmp_path))] == ["caveat.woff2"]
    assert "lakki-reddy" not in FONTSOURCE_FAMILIES
    assert len(set(FONTSOURCE_FAMILIES)) == len(FONTSOURCE_FAMILIES)


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


def test_the_other_styles_worth_training_on():
    from training.fonts import pick_styles

    assert pick_styles({(400, "normal"), (700, "normal"), (300, "normal")}) == [(700, "normal")]
    assert pick_styles({(100, "normal"), (200, "normal"), (400, "normal")}) == [(100, "normal")]  # hairline hands
    assert pick_styles({(400, "normal"), (500, "normal")}) == []  # too close to the regular to add anything
    assert pick_styles({(400, "normal"), (800, "normal"), (300, "italic"), (400, "italic"), (800, "italic")}) == [
        (800, "normal"), (400, "italic"), (800, "italic")]
    assert pick_styles({(400, "normal")}) == []


def _archive(folder: Path, package: str, files: dict[str, bytes]) -> None:
    import io
    import tarfile

    with tarfile.open(folder / f"fontsource-{package}-5.3.0.tgz", "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/files/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_styles_come_from_the_familys_own_archive_into_their_own_folder(tmp_path, monkeypatch):
    from training import fonts

    monkeypatch.setattr(fonts, "font_dir", lambda: tmp_path)
    _archive(tmp_path, "caveat-brush", {"caveat-brush-latin-400-normal.woff2": b"brush"})
    _archive(tmp_path, "caveat", {"caveat-latin-400-normal.woff2": b"regular", "caveat-latin-700-normal.woff2": b"bold",
                                  "caveat-latin-ext-700-normal.woff2": b"ext", "caveat-latin-600-normal.woff2": b"6"})
    assert fonts.packed(tmp_path, "caveat").name == "fontsource-caveat-5.3.0.tgz"
    assert fonts.packed(tmp_path, "caveat-brush").name == "fontsource-caveat-brush-5.3.0.tgz"
    assert fonts.packed(tmp_path, "kalam") is None
    files = fonts.fetch_font_styles(("caveat", "caveat-brush", "kalam"))
    assert [(f.parent, f.name, f.read_bytes()) for f in files] == [
        (tmp_path / "styles", "caveat-700-normal.woff2", b"bold")]
    assert fonts.fetch_font_styles(("caveat",)) == files  # kept, not extracted again
    assert [p.name for p in fonts.fetch_fonts(("caveat",))] == ["caveat.woff2"]
    assert (tmp_path / "caveat.woff2").read_bytes() == b"regular"  # not caveat-brush's


def test_a_validation_family_is_held_out_in_every_style(tmp_path):
    for name in ("caveat-700-normal.woff2", "montez-700-normal.woff2", "sofadi-one-400-italic.woff2"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in font_paths(str(tmp_path))] == ["caveat-700-normal.woff2"]
