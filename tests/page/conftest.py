"""Generated pages for the page-pipeline tests (OpenCV script font: no data or fonts needed)."""

from __future__ import annotations

import pytest

from training.pages import EVAL_STYLE, PageStyle, compose_page, text_source


@pytest.fixture(scope="session")
def scan_pages():
    """Ten scan-like pages, 5-12 lines, +-3 degrees, uneven light, JPEG."""
    source = text_source(seed=5)
    return [compose_page(source, EVAL_STYLE, seed=100 + i) for i in range(10)]


@pytest.fixture(scope="session")
def shadow_page():
    """A photo-like page: strong shadow, ruled paper, curved lines, no desk."""
    style = PageStyle(shadow=1.0, ruled=1.0, curve=0.2, lighting=0.6, noise=6.0, jpeg=(50, 60))
    return compose_page(text_source(seed=9), style, seed=7)
