"""HEIC/HEIF photos (iPhone) are decoded through pi-heif, imported only when one is read."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from model import imageio
from model.imageio import ImageError, decode_image, decode_pages, load_image
from model.recognizer import Recognizer
from tests.conftest import encode_heic, render_text


def test_a_heic_photo_reads_as_its_pixels_and_text(tmp_path):
    gray = render_text("hello world")
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(encode_heic(gray))
    read = load_image(path)
    assert read.shape == gray.shape and read.dtype == np.uint8
    assert np.abs(read.astype(int) - gray).mean() < 4  # HEVC is lossy, but close
    rec = Recognizer.load(decoder="greedy")
    assert rec.recognize([read])[0].text == rec.recognize([gray])[0].text != ""
    assert len(decode_pages(path.read_bytes(), path.name)) == 1


def test_orientation_and_transparency_are_honoured():
    band = np.full((40, 100), 250, np.uint8)
    band[:, :20] = 0  # dark band at the left
    upright = decode_image(encode_heic(band, orientation=6), "turned.heic")  # stored turned: shown 90 degrees right
    assert upright.shape == (100, 40)
    assert upright[:15].mean() < 40 and upright[-60:].mean() > 200  # the band is now at the top
    rgba = np.zeros((40, 100, 4), np.uint8)
    rgba[10:30, 10:30] = (0, 0, 0, 255)  # a black square on transparent
    flat = decode_image(encode_heic(rgba), "clear.heic")
    assert flat[0, 0] > 245 and flat[20, 20] < 10  # transparency on white


def test_a_damaged_or_huge_heic_is_a_clear_error(monkeypatch):
    data = encode_heic(render_text("hello"))
    with pytest.raises(ImageError, match=r"^cut.heic: not a readable HEIC image \(damaged, truncated"):
        decode_image(data[: len(data) // 2], "cut.heic")
    monkeypatch.setattr(imageio, "MAX_PIXELS", 1000)
    with pytest.raises(ImageError, match=r"^big.heic: image is too large \(\d+x\d+ pixels\)"):
        decode_image(data, "big.heic")


def test_without_pi_heif_a_heic_says_what_to_do(monkeypatch):
    monkeypatch.setitem(sys.modules, "pi_heif", None)  # as if the package were not installed
    with pytest.raises(ImageError, match="IMG.HEIC: HEIC images cannot be read here .*convert it to JPEG or PNG"):
        decode_image(encode_heic(render_text("hi")), "IMG.HEIC")


def test_pi_heif_is_imported_only_for_a_heic(tmp_path):
    png = tmp_path / "line.png"
    import cv2

    cv2.imwrite(str(png), render_text("hello"))
    heic = tmp_path / "photo.heic"
    heic.write_bytes(encode_heic(render_text("hello")))
    script = ("import sys; from model.imageio import load_image; load_image(sys.argv[1]); a = 'pi_heif' in sys.modules;"
              " load_image(sys.argv[2]); print(a, 'pi_heif' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script, str(png), str(heic)], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_the_cli_reads_heic_files_and_folders(tmp_path):
    (tmp_path / "photo.heic").write_bytes(encode_heic(render_text("hello")))
    (tmp_path / "scan.HEIF").write_bytes(encode_heic(render_text("world")))
    out = subprocess.run([sys.executable, "-m", "htr_desktop", "recognize", "--json", "--layout", "line",
                          str(tmp_path)], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(tmp_path / "photo.heic"), str(tmp_path / "scan.HEIF")]
    assert all(r["text"] for r in rows)
