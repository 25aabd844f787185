"""PDFium, one thread at a time.

PDFium is not thread-safe: two threads of one process inside it at once may crash the whole
process (pypdfium2's documentation says so, and a reviewer's page asking for several PDF
previews in parallel did). Every PDFium call of the application goes through this module,
behind one process-wide lock: upload validation, the licence OCR's page rendering and the
staff previews. Other processes (gunicorn workers, Celery) have their own PDFium and their
own lock.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PIL import Image

_lock = threading.RLock()


class PdfError(Exception):
    """The PDF cannot be opened: ``reason`` is ``encrypted``, ``corrupt`` or ``empty``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def _open(source: bytes | str | Path):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(str(source) if isinstance(source, Path) else source)
    except pdfium.PdfiumError as exc:
        reason = "encrypted" if "password" in str(exc).lower() else "corrupt"
        raise PdfError(reason, str(exc)) from None


def page_count(source: bytes | str | Path) -> int:
    """How many pages the PDF (bytes or a path) has."""
    with _lock:
        pdf = _open(source)
        try:
            return len(pdf)
        finally:
            pdf.close()


def render_first_page(source: bytes | str | Path, longest_side: int,
                      max_scale: float = 4.0) -> Image.Image:
    """The first page as a PIL image (its own pixels, independent of PDFium), longest side
    ``longest_side`` at most ``max_scale`` times the page's size in points."""
    with _lock:
        pdf = _open(source)
        try:
            if len(pdf) == 0:
                raise PdfError("empty")
            page = pdf[0]
            try:
                width, height = page.get_size()
                scale = min(longest_side / max(width, height, 1.0), max_scale)
                bitmap = page.render(scale=scale)
                try:
                    return bitmap.to_pil().copy()
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            pdf.close()
