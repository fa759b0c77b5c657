"""PDF input: one page per PDF page at the chosen resolution, in the loader, the CLI and the window."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from model.imageio import ImageError, load_pages
from tests.conftest import render_text


@pytest.fixture
def pdf_file(tmp_path):
    """A two-page PDF made here: each page one rendered line, 100 dpi."""
    pages = [Image.fromarray(render_text(t, height=90)) for t in ("first page", "second page")]
    path = tmp_path / "letters.pdf"
    pages[0].save(path, "PDF", resolution=100.0, save_all=True, append_images=pages[1:])
    return path, pages


def test_every_page_at_the_chosen_dpi(pdf_file):
    path, pages = pdf_file
    grays = load_pages(path, dpi=100)
    assert len(grays) == 2
    for gray, page in zip(grays, pages):
        assert gray.dtype == np.uint8 and gray.ndim == 2
        assert abs(gray.shape[1] - page.width) <= 1 and abs(gray.shape[0] - page.height) <= 1
        assert gray.min() < 100 and np.median(gray) > 200  # the writing is there, on white
    double = load_pages(path, dpi=200)
    assert abs(double[0].shape[1] - 2 * pages[0].width) <= 2


def test_broken_pdf_is_a_clear_error(tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\nthis is not really a pdf")
    with pytest.raises(ImageError, match="broken.pdf: cannot open the PDF"):
        load_pages(bad)


def test_cli_reads_every_page_and_writes_one_xml_each(pdf_file, tmp_path):
    path, _ = pdf_file
    out = subprocess.run([sys.executable, "-m", "htr_desktop", "recognize", "--json", "--layout", "line",
                          "--pdf-dpi", "100", "--format", "alto", "--out", str(tmp_path / "xml"), str(path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert [p["page"] for p in result["pages"]] == [1, 2]
    assert result["text"] == "\n\n".join(p["text"] for p in result["pages"])
    assert result["written"] == [str(tmp_path / "xml" / f"letters-p{n}.xml") for n in (1, 2)]
