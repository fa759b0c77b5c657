"""PDF input: every page rendered to 8-bit gray at a chosen resolution with PDFium (pypdfium2)."""

from __future__ import annotations

import numpy as np

from model.imageio import MAX_PIXELS, ImageError

PDF_MAGIC = b"%PDF-"
DEFAULT_DPI = 200  # enough for handwriting; 300 for small writing
MAX_PAGES = 200  # every page is held in memory as an image: refuse larger files with a clear message


def is_pdf(data: bytes) -> bool:
    """Whether ``data`` starts like a PDF file."""
    return data[:1024].lstrip()[:5] == PDF_MAGIC


def render_pdf(data: bytes, name: str = "document.pdf", dpi: int = DEFAULT_DPI) -> list[np.ndarray]:
    """Each page of a PDF as an 8-bit gray image at ``dpi``; raises ImageError for broken or locked files."""
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = "it is password-protected" if "password" in str(exc).lower() else "it is damaged or not a PDF"
        raise ImageError(f"{name}: cannot open the PDF ({reason})") from None
    try:
        if len(doc) == 0:
            raise ImageError(f"{name}: the PDF has no pages")
        if len(doc) > MAX_PAGES:
            raise ImageError(f"{name}: the PDF has {len(doc)} pages; at most {MAX_PAGES} can be opened at once "
                             "(split it into smaller files)")
        pages = []
        for i in range(len(doc)):
            page = doc[i]
            w, h = page.get_size()
            scale = dpi / 72.0
            if w * h * scale * scale > MAX_PIXELS:
                raise ImageError(f"{name}: page {i + 1} is too large at {dpi} dpi")
            bitmap = page.render(scale=scale, grayscale=True)
            gray = np.array(bitmap.to_numpy(), dtype=np.uint8, copy=True)
            pages.append(gray[:, :, 0] if gray.ndim == 3 else gray)
            page.close()
        return pages
    except pdfium.PdfiumError as exc:
        raise ImageError(f"{name}: a page of the PDF cannot be rendered ({exc})") from None
    finally:
        doc.close()
