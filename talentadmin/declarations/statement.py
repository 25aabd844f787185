"""The 诚信声明: the office's text (page text ``integrity_statement``) filled in with the unit,
the person and the ID number, as a printable page and as a PDF.

The PDF is drawn with reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1): it needs no
font file on the server, which has none, and every PDF reader that shows Chinese carries a
Song face for it (the font is referenced, not embedded, so the file stays a few kilobytes).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape

from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from ..pages.defaults import DEFAULT_PAGES
from ..pages.operations import texts

KEY = "integrity_statement"
FIELDS = ("unit", "name", "id_number", "round")
PLACEHOLDER = re.compile(r"\{(" + "|".join(FIELDS) + r")\}")
# What is left to write by hand when a value is not known (full-width spaces, underlined).
BLANKS = {"unit": 14, "name": 6, "id_number": 18, "round": 0}
FONT = "STSong-Light"


@dataclass
class Statement:
    title: str
    paragraphs: list[str]
    values: dict[str, str]

    def filled(self, wrap, text_escape, empty: str = "") -> list:
        """Each paragraph with its placeholders replaced: ``wrap(field, value)`` for a known
        value or a blank, ``text_escape`` for the office's text around them."""
        out = []
        for paragraph in self.paragraphs:
            parts, last = [], 0
            for match in PLACEHOLDER.finditer(paragraph):
                parts.append(text_escape(paragraph[last:match.start()]))
                parts.append(wrap(match.group(1), self.values.get(match.group(1), "")))
                last = match.end()
            parts.append(text_escape(paragraph[last:]))
            out.append(empty.join(parts))
        return out

    def html(self) -> list[Markup]:
        def wrap(field: str, value: str) -> Markup:
            if field == "round" and not value:
                return escape(_("this year's talent-introduction demand declaration"))
            shown = value or "\u3000" * BLANKS[field]
            return Markup("<u>&nbsp;{}&nbsp;</u>").format(shown)

        return self.filled(wrap, escape, Markup(""))

    def pdf(self) -> bytes:
        from reportlab.lib.enums import TA_CENTER
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.lib.units import mm
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

        if FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(FONT))

        def wrap(field: str, value: str) -> str:
            if field == "round" and not value:
                return xml_escape(_("this year's talent-introduction demand declaration"))
            # Non-breaking spaces keep the blank's width (reportlab collapses plain spaces; in
            # this font each is as wide as a Chinese character).
            shown = xml_escape(value) if value else "\u00a0" * BLANKS[field]
            return f"<u>\u00a0{shown}\u00a0</u>"

        title = ParagraphStyle("title", fontName=FONT, fontSize=20, leading=30,
                               alignment=TA_CENTER, spaceAfter=12 * mm)
        body = ParagraphStyle("body", fontName=FONT, fontSize=13, leading=26,
                              firstLineIndent=26, spaceAfter=4 * mm, wordWrap="CJK")
        sign = ParagraphStyle("sign", parent=body, firstLineIndent=0, leftIndent=85 * mm,
                              spaceAfter=8 * mm)
        buffer = io.BytesIO()
        document = SimpleDocTemplate(buffer, pagesize=A4, title=self.title,
                                     leftMargin=25 * mm, rightMargin=25 * mm,
                                     topMargin=30 * mm, bottomMargin=25 * mm)
        story = [Paragraph(xml_escape(self.title), title)]
        story += [Paragraph(text, body) for text in self.filled(wrap, xml_escape)]
        story.append(Spacer(1, 20 * mm))
        story += [Paragraph(xml_escape(line), sign) for line in signature_lines()]
        document.build(story)
        return buffer.getvalue()


def signature_lines() -> list[str]:
    return [_("Legal representative (signature):"), _("Unit (official seal):"),
            _("Date (year, month, day):")]


def statement(unit: str = "", name: str = "", id_number: str = "",
              round_name: str = "") -> Statement:
    """The statement in the current language, from the office's page text (its shipped default
    when the row is missing)."""
    rows = texts(KEY)
    if rows:
        title, body = rows[0].title, rows[0].body
    else:
        default = next(page for page in DEFAULT_PAGES if page["key"] == KEY)
        suffix = "en" if str(get_locale() or "").startswith("en") else "zh"
        title, body = default[f"title_{suffix}"], default[f"body_{suffix}"]
    paragraphs = [line.strip() for line in body.replace("\r\n", "\n").split("\n")]
    return Statement(title=title, paragraphs=[p for p in paragraphs if p],
                     values={"unit": unit or "", "name": name or "",
                             "id_number": id_number or "", "round": round_name or ""})
