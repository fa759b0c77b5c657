import re
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from model.imageio import ImageError, decode_image, decode_pages, load_image, load_pages, to_gray


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)) + b"\x00\x00\x00\x00IDAT\x00\x00\x00\x00")


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="not found"):
        load_image(tmp_path / "nope.png")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        load_image(p)


def test_not_an_image(tmp_path):
    p = tmp_path / "text.png"
    p.write_text("hello")
    with pytest.raises(ImageError, match="not a readable image"):
        load_image(p)


# The first bytes of an iPhone photo (an ISO media file: box size, "ftyp", brand, version, compatible brands).
HEIC_HEAD = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)
AVIF_HEAD = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(200)


@pytest.mark.parametrize(("head", "message"), [
    (HEIC_HEAD, "not a readable HEIC image (damaged, truncated"),  # a HEIC is read (tests/engine/test_heic.py)
    (AVIF_HEAD, "AVIF images cannot be read: convert it to JPEG or PNG"),
])
def test_a_heic_or_avif_photo_is_named_with_what_to_do(tmp_path, head, message):
    p = tmp_path / "IMG_0001.jpg"  # (phones and mail programs keep the old suffix on HEIC files too)
    p.write_bytes(head)
    with pytest.raises(ImageError, match=re.escape(f"IMG_0001.jpg: {message}")):
        load_image(p)


def test_an_mp4_is_not_called_a_heic(tmp_path):
    p = tmp_path / "clip.png"
    p.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42" + bytes(200))
    with pytest.raises(ImageError, match="not a readable image"):
        load_image(p)


def test_truncated_jpeg(tmp_path, line_image):
    ok, enc = cv2.imencode(".jpg", line_image)
    p = tmp_path / "cut.jpg"
    p.write_bytes(enc.tobytes()[:200])
    with pytest.raises(ImageError):
        load_image(p)


def test_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageError, match="folder"):
        load_image(tmp_path)


def test_decompression_bomb_refused():
    with pytest.raises(ImageError):
        decode_image(_png_header(30000, 30000), "bomb.png")


def test_16bit_png(tmp_path):
    img = np.full((40, 100), 60000, np.uint16)
    img[10:30, 20:80] = 1000
    p = tmp_path / "deep.png"
    cv2.imwrite(str(p), img)
    gray = load_image(p)
    assert gray.dtype == np.uint8
    assert gray[0, 0] > 220 and gray[20, 50] < 10


def test_alpha_is_composited_on_white(tmp_path):
    rgba = np.zeros((40, 100, 4), np.uint8)  # transparent black everywhere
    rgba[10:30, 20:80] = (0, 0, 0, 255)  # opaque black ink
    p = tmp_path / "alpha.png"
    cv2.imwrite(str(p), rgba)
    gray = load_image(p)
    assert gray[0, 0] == 255 and gray[20, 50] == 0


def test_cmyk_jpeg(tmp_path):
    im = Image.new("CMYK", (100, 40), (0, 0, 0, 0))
    im.paste((0, 0, 0, 255), (20, 10, 80, 30))
    p = tmp_path / "cmyk.jpg"
    im.save(p)
    gray = load_image(p)
    assert gray.shape == (40, 100)
    assert gray[0, 0] > 200 and gray[20, 50] < 60


def test_exif_orientation_honoured(tmp_path):
    im = Image.new("L", (100, 40), 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    p = tmp_path / "rotated.jpg"
    im.save(p, exif=exif)
    assert load_image(p).shape == (100, 40)


def test_multipage_tiff(tmp_path):
    pages = [Image.new("L", (60, 30), v) for v in (10, 200)]
    p = tmp_path / "pages.tif"
    pages[0].save(p, save_all=True, append_images=pages[1:])
    out = load_pages(p)
    assert len(out) == 2 and out[0].mean() < 50 and out[1].mean() > 150


def test_a_long_multipage_tiff_is_decoded_a_page_at_a_time(tmp_path):
    """Memory: the gray pages and one page in colour, not every page in colour at once (3.1 GB for 60 A4 pages)."""
    import tracemalloc

    pages = [Image.new("L", (1000, 1000), 200 + v) for v in range(12)]
    p = tmp_path / "scan.tif"
    pages[0].save(p, save_all=True, append_images=pages[1:], compression="tiff_deflate")
    data = p.read_bytes()
    tracemalloc.start()
    try:
        out = decode_pages(data, "scan.tif")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [int(page[0, 0]) for page in out] == [200 + v for v in range(12)]
    gray = 12 * 1000 * 1000
    assert peak < gray + 4 * 3 * 1000 * 1000  # (all pages in colour: 36 MB more)


def test_a_tiff_of_too_many_pages_is_refused_like_a_pdf(tmp_path, monkeypatch):
    monkeypatch.setattr("model.pdf.MAX_PAGES", 3)
    pages = [Image.new("L", (40, 20), v) for v in (10, 60, 110, 160)]
    p = tmp_path / "long.tif"
    pages[0].save(p, save_all=True, append_images=pages[1:])
    with pytest.raises(ImageError, match="long.tif: the TIFF has more than 3 pages; at most 3 can be opened"):
        load_pages(p)


def test_a_tiff_page_that_cannot_be_decoded_is_named_not_dropped(tmp_path, monkeypatch):
    pages = [Image.new("L", (40, 20), v) for v in (10, 60, 110)]
    p = tmp_path / "scan.tif"
    pages[0].save(p, save_all=True, append_images=pages[1:])
    decode = cv2.imdecodemulti

    def second_page_too_large(buf, flags, mats=None, span=(0, 0)):
        if span[0] == 1:
            raise cv2.error("imgcodecs: image size exceeds the pixels limit")
        return decode(buf, flags, mats, span)

    monkeypatch.setattr(cv2, "imdecodemulti", second_page_too_large)
    with pytest.raises(ImageError, match="scan.tif: page 2 is too large"):
        load_pages(p)


def test_to_gray_rejects_empty():
    with pytest.raises(ImageError):
        to_gray(np.zeros((0, 5), np.uint8))


def test_jpeg_is_decoded_straight_to_gray(tmp_path):
    rng = np.random.default_rng(0)
    color = cv2.resize(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8), (300, 200), interpolation=cv2.INTER_CUBIC)
    p = tmp_path / "c.jpg"
    cv2.imwrite(str(p), color)
    reference = cv2.cvtColor(cv2.imread(str(p), cv2.IMREAD_COLOR), cv2.COLOR_BGR2GRAY)
    gray = load_image(p)
    assert gray.shape == reference.shape and gray.dtype == np.uint8
    assert np.abs(gray.astype(int) - reference).max() <= 3


def test_huge_png_without_alpha_is_decoded_straight_to_gray(tmp_path, monkeypatch):
    import model.imageio as imageio

    rng = np.random.default_rng(1)
    color = rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)
    rgba = np.dstack([color, np.full((40, 50), 128, np.uint8)])
    cv2.imwrite(str(tmp_path / "c.png"), color)
    cv2.imwrite(str(tmp_path / "a.png"), rgba)
    normal = load_image(tmp_path / "c.png")
    monkeypatch.setattr(imageio, "HUGE_PIXELS", 100)
    assert imageio._huge_opaque_png((tmp_path / "c.png").read_bytes())
    assert not imageio._huge_opaque_png((tmp_path / "a.png").read_bytes())  # alpha: composited as before
    assert np.abs(load_image(tmp_path / "c.png").astype(int) - normal).max() <= 2
    assert load_image(tmp_path / "a.png").min() >= 100  # half-transparent ink on white
