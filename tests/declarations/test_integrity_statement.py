"""The 诚信声明: the office's page text filled in with the unit, the person and the ID number,
as a printable page and as a PDF read back with pypdf."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from pypdf import PdfReader
from sqlalchemy import delete, select

from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db
from talentadmin.pages.models import PageText

from ..conftest import DECLARATION_ID, UNIT, csrf_in, declaration_form_data

ID = DECLARATION_ID


@pytest.fixture
def unit(permitted, open_round, portal):
    permitted("13800138000")
    return portal


@pytest.fixture
def declared(unit, app) -> int:
    response = unit.post_multipart("/talent/declarations/new", declaration_form_data())
    assert response.status_code == 302
    with app.app_context():
        return db.session.execute(select(Declaration.id)).scalar_one()


def english(client) -> None:
    client.post("/language/en", data={"csrf_token": csrf_in(client.get("/").get_data(
        as_text=True))})


def pdf_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "")


def set_text(app, **fields) -> None:
    with app.app_context():
        page = db.session.execute(
            select(PageText).where(PageText.key == "integrity_statement")).scalar_one()
        for name, value in fields.items():
            setattr(page, name, value)
        db.session.commit()


def test_page_is_filled_with_unit_person_and_id_for_the_owner(declared, client):
    response = client.get(f"/talent/declarations/{declared}/integrity-statement")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "<h1>诚信声明</h1>" in page
    assert f"<u>&nbsp;{UNIT}&nbsp;</u>" in page and "<u>&nbsp;张三&nbsp;</u>" in page
    assert f"<u>&nbsp;{ID}&nbsp;</u>" in page
    assert "郑重声明" in page and "{unit}" not in page and "{id_number}" not in page
    assert f'href="/talent/declarations/{declared}/integrity-statement.pdf"' in page


def test_pdf_carries_unit_person_and_id(declared, client):
    response = client.get(f"/talent/declarations/{declared}/integrity-statement.pdf")
    text = pdf_text(response)
    assert "诚信声明" in text and UNIT in text and "张三" in text and ID in text
    assert "郑重声明" in text
    assert response.headers["Cache-Control"] == "no-store"
    disposition = unquote(response.headers["Content-Disposition"])
    assert disposition.startswith("attachment") and f"{UNIT}-张三-诚信声明.pdf" in disposition


def test_english_page_and_pdf(declared, client):
    english(client)
    page = client.get(f"/talent/declarations/{declared}/integrity-statement").get_data(
        as_text=True)
    assert '<html lang="en">' in page and "<h1>Integrity statement</h1>" in page
    assert "solemnly declare" in page and ID in page
    assert "Legal representative (signature):" in page and "Download as PDF" in page
    text = pdf_text(client.get(f"/talent/declarations/{declared}/integrity-statement.pdf"))
    assert "Integrity statement" in text and "solemnly declare" in text
    assert UNIT in text and "张三" in text and ID in text
    assert "Legal representative (signature):" in text


def test_blank_statement_has_the_unit_and_blanks_for_the_person(unit, client):
    page = client.get("/talent/integrity-statement").get_data(as_text=True)
    assert f"<u>&nbsp;{UNIT}&nbsp;</u>" in page and ID not in page and "张三" not in page
    assert "<u>&nbsp;\u3000\u3000\u3000\u3000\u3000\u3000&nbsp;</u>" in page  # the name
    assert 'href="/talent/integrity-statement.pdf"' in page
    text = pdf_text(client.get("/talent/integrity-statement.pdf"))
    assert "诚信声明" in text and UNIT in text and ID not in text


def test_an_edited_text_without_placeholders_still_works(declared, client, app):
    set_text(app, body_zh="本单位承诺所报材料真实。\n\n如有不实，后果自负。", title_zh="承诺书")
    page = client.get(f"/talent/declarations/{declared}/integrity-statement").get_data(
        as_text=True)
    assert "<h1>承诺书</h1>" in page and "<p>本单位承诺所报材料真实。</p>" in page
    assert "<p>如有不实，后果自负。</p>" in page and "<p></p>" not in page
    text = pdf_text(client.get(f"/talent/declarations/{declared}/integrity-statement.pdf"))
    assert "承诺书" in text and "本单位承诺所报材料真实。" in text and "后果自负" in text


def test_edited_text_is_escaped_and_unknown_braces_are_kept(declared, client, app):
    set_text(app, body_zh="<script>alert(1)</script>{unit} & {other} {name}")
    response = client.get(f"/talent/declarations/{declared}/integrity-statement")
    page = response.get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert f"<u>&nbsp;{UNIT}&nbsp;</u> &amp; {{other}} <u>&nbsp;张三&nbsp;</u>" in page
    text = pdf_text(client.get(f"/talent/declarations/{declared}/integrity-statement.pdf"))
    assert "<script>alert(1)</script>" in text and "& {other}" in text and UNIT in text


def test_the_shipped_text_is_used_when_the_row_is_missing(declared, client, app):
    with app.app_context():
        db.session.execute(delete(PageText).where(PageText.key == "integrity_statement"))
        db.session.commit()
    page = client.get(f"/talent/declarations/{declared}/integrity-statement").get_data(
        as_text=True)
    assert "<h1>诚信声明</h1>" in page and ID in page
    assert UNIT in pdf_text(client.get("/talent/integrity-statement.pdf"))


def test_another_units_statement_is_404(declared, client, permitted):
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    permitted("13900139000", name="北京另一家科技有限公司", code="91110108MA00GH4T3U")
    for suffix in ("", ".pdf"):
        response = client.get(f"/talent/declarations/{declared}/integrity-statement{suffix}")
        assert response.status_code == 404 and ID.encode() not in response.data


@pytest.mark.parametrize("url", ["/talent/integrity-statement",
                                 "/talent/integrity-statement.pdf",
                                 "/talent/declarations/1/integrity-statement.pdf"])
def test_anonymous_is_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "login" in response.headers["Location"]


def test_the_admin_form_names_the_placeholders(app, client, staff_login):
    from sqlalchemy import select

    from talentadmin.extensions import db
    from talentadmin.pages.models import PageText

    with app.app_context():
        statement = db.session.scalar(select(PageText.id).where(
            PageText.key == "integrity_statement"))
        other = db.session.scalar(select(PageText.id).where(PageText.key == "policy_basis"))
    staff_login("boss", "admin")
    page = client.get(f"/admin/page_text/edit/?id={statement}").get_data(as_text=True)
    assert page.count("将分别替换为单位名称") == 2  # under the Chinese and the English text
    page = client.get(f"/admin/page_text/edit/?id={other}").get_data(as_text=True)
    assert "将分别替换为单位名称" not in page
