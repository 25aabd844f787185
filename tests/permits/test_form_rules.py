"""The permit form's rules: certificates only for the qualifications ticked, several files per
qualification and per tax year, landline contact numbers, tax years tied to the round."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from talentadmin.core.models import Attachment
from talentadmin.core.timeutil import to_utc, utcnow
from talentadmin.declarations.models import Round
from talentadmin.extensions import db
from talentadmin.permits.forms import MAX_FILES
from talentadmin.permits.models import PermitRevision

from ..conftest import PASSWORD, csrf_in, pdf_bytes, permit_form_data, png_bytes

APPLY = "/talent/permit/apply"


@pytest.fixture
def operator(certified, portal, client):
    certified("13800138000")
    assert portal.login_password("13800138000", PASSWORD).status_code == 302
    html = client.get("/").get_data(as_text=True)
    client.post("/language/en", data={"csrf_token": csrf_in(html)})
    return portal


def revisions(app) -> list[PermitRevision]:
    with app.app_context():
        return list(db.session.execute(select(PermitRevision).order_by(PermitRevision.id))
                    .scalars())


def attachments(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count(Attachment.id))).scalar_one()


def pdfs(*names):
    return [(io.BytesIO(pdf_bytes()), name) for name in names]


# --- the certificate picker follows the ticked qualifications ---------------------------------


def test_each_certificate_picker_is_tied_to_its_qualification_by_a_static_script(operator,
                                                                                 client):
    page = client.get(APPLY).get_data(as_text=True)
    assert re.search(r'<div class="qualification-evidence" data-qualification="hightech"[^>]*>'
                     r'\s*<div class="form-group file-group">\s*<label for="cert_hightech"',
                     page)
    assert '<script src="/static/permit-form.js" defer></script>' in page
    assert not re.search(r"\son[a-z]+=", page)  # no inline handlers: the CSP would block them
    script = client.get("/static/permit-form.js")
    assert script.status_code == 200 and b"data-qualification" in script.data


def test_certificate_of_a_qualification_not_ticked_is_ignored(operator, app):
    before = attachments(app)
    response = operator.post_multipart(APPLY, permit_form_data(
        qualifications=["other"], cert_hightech=pdfs("高新证书.pdf")[0]))
    assert response.status_code == 302
    (revision,) = revisions(app)
    assert revision.qualifications == ["other"]
    assert [f.slot for f in revision.files] == ["tax:1", "tax:2", "tax:3"]
    assert attachments(app) == before + 3  # the certificate was not even stored


def test_refused_submit_does_not_keep_the_certificate_of_an_unticked_qualification(operator,
                                                                                   app):
    response = operator.post_multipart(APPLY, permit_form_data(
        qualifications=["other"], cert_hightech=pdfs("高新证书.pdf")[0], tax_1="abc"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "高新证书.pdf" not in page and re.search(r'name="cert_hightech_keep"[^>]*value=""',
                                                   page)


# --- several files per qualification and per tax year -----------------------------------------


def test_monthly_receipts_and_several_certificate_pages(operator, app, client):
    response = operator.post_multipart(APPLY, permit_form_data(
        cert_hightech=pdfs("证书正本.pdf", "证书附页.pdf"),
        tax_file_1=pdfs(*(f"2025-{m:02d}.pdf" for m in range(1, 13))),
        tax_file_2=pdfs("2024-Q1.pdf", "2024-Q2.pdf", "2024-Q3.pdf", "2024-Q4.pdf")))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    (revision,) = revisions(app)
    labels = [f.label for f in revision.files]
    assert labels[:2] == ["高新技术企业证书（1）", "高新技术企业证书（2）"]
    assert labels[2:14] == [f"2025年缴纳税费凭证（{k}）" for k in range(1, 13)]
    assert labels[14:18] == [f"2024年缴纳税费凭证（{k}）" for k in range(1, 5)]
    assert labels[18:] == ["2023年缴纳税费凭证"]
    detail = client.get(f"/talent/permit/{revision.id}").get_data(as_text=True)
    assert detail.count(f'href="/talent/permit/{revision.id}/files/') == 19  # each listed
    page = client.get(APPLY)  # one application waits: to its detail page
    assert page.status_code == 302


def test_the_file_inputs_take_several_files(operator, client):
    page = client.get(APPLY).get_data(as_text=True)
    for name in ("cert_hightech", "tax_file_1", "tax_file_2", "tax_file_3"):
        assert re.search(rf'<input[^>]*multiple[^>]*name="{name}"|<input[^>]*name="{name}"'
                         r'[^>]*multiple', page), name
    assert f"at most {MAX_FILES}" in page


def test_each_file_input_states_its_limits_for_the_page_to_refuse_at_once(operator, client):
    """As on the declaration form: a file over 10 MB, or more than the field takes, is
    refused as it is chosen (static/file-limits.js), with the message beside the field."""
    from talentadmin.core import storage

    page = client.get(APPLY).get_data(as_text=True)
    assert "file-limits.js" in page
    for name in ("cert_hightech", "tax_file_1", "tax_file_2", "tax_file_3"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert f'data-max-bytes="{storage.MAX_BYTES}"' in tag, name
        assert f'data-max-files="{MAX_FILES}"' in tag and "data-too-large=" in tag, name
        assert "data-too-many=" in tag, name


def test_more_files_than_allowed_are_refused_and_none_stored(operator, app):
    before = attachments(app)
    response = operator.post_multipart(APPLY, permit_form_data(
        tax_file_1=pdfs(*(f"{k}.pdf" for k in range(MAX_FILES + 1)))))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"Upload at most {MAX_FILES} files here (you chose {MAX_FILES + 1})." in page
    assert 'id="tax_file_1-error"' in page
    assert revisions(app) == []
    assert attachments(app) == before + 3  # the certificate and the other two years' files


def test_one_bad_file_among_several_is_named(operator, app):
    response = operator.post_multipart(APPLY, permit_form_data(tax_file_2=[
        (io.BytesIO(pdf_bytes()), "ok.pdf"),
        (io.BytesIO(b"MZ\x90\x00" + b"\0" * 500), "税单.pdf")]))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="tax_file_2-error"' in page and "Only JPG, PNG or PDF" in page
    assert revisions(app) == []


# --- contact numbers: mobiles and landlines ----------------------------------------------------


@pytest.mark.parametrize(("typed", "stored"), [
    ("13900001111", "13900001111"),
    ("+86 139 0000 1111", "13900001111"),
    ("010-12345678", "010-12345678"),
    ("010-12345678-123", "010-12345678-123"),
    ("(0755) 8888 6666", "0755-88886666"),
    ("０１０－８４２９６１５１转８", "010-84296151-8"),
])
def test_contact_number_mobile_or_landline(operator, app, typed, stored):
    response = operator.post_multipart(APPLY, permit_form_data(contact_mobile=typed))
    assert response.status_code == 302
    assert revisions(app)[0].contact_mobile == stored


@pytest.mark.parametrize("typed", ["12345", "84296151", "010-1234567", "011-12345678",
                                   "010-12345678-1234567", "1380013800", "tel 010 12345678",
                                   "010-٣2345678"])
def test_bad_contact_number_refused_beside_the_field(operator, app, typed):
    response = operator.post_multipart(APPLY, permit_form_data(contact_mobile=typed))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(r'id="contact_mobile-error"[^>]*>(.*?)</div>\s*</div>', page, re.S)
    assert error, page[:2000]
    assert ("010-12345678-123" in error.group(1) or "digits 0–9" in error.group(1))
    assert revisions(app) == []


def test_landline_shown_to_the_reviewer(operator, app, client, staff_login):
    operator.post_multipart(APPLY, permit_form_data(contact_mobile="010-12345678-123"))
    (revision,) = revisions(app)
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    staff_login("reviewer", "initial_reviewer")
    page = client.get(f"/admin/permit_review/details/?id={revision.id}").get_data(as_text=True)
    assert "010-12345678-123" in page


# --- the three tax years follow the round ------------------------------------------------------


def _round(app, name: str, opens: datetime, days: int = 30) -> None:
    with app.app_context():
        db.session.add(Round(name=name, opens_at=to_utc(opens),
                             closes_at=to_utc(opens + timedelta(days=days))))
        db.session.commit()


def _years(page: str) -> list[str]:
    return re.findall(r"Tax paid in (\d{4}) \(10,000 yuan\)", page)


def test_tax_years_without_a_round_are_the_three_before_this_year(operator, client):
    year = utcnow().year
    page = client.get(APPLY).get_data(as_text=True)
    assert _years(page) == [str(year - 1), str(year - 2), str(year - 3)]
    assert 'id="tax-years-round"' not in page


def test_tax_years_of_a_past_round(operator, client, app):
    _round(app, "2023年引进人才需求申报", datetime(2023, 3, 1, 9))
    page = client.get(APPLY).get_data(as_text=True)
    assert _years(page) == ["2022", "2021", "2020"]
    assert "2023年引进人才需求申报" in page


def test_tax_years_of_the_next_round_before_a_past_one(operator, client, app):
    _round(app, "2023年引进人才需求申报", datetime(2023, 3, 1, 9))
    _round(app, "2030年引进人才需求申报", datetime(2030, 1, 2, 9))
    assert _years(client.get(APPLY).get_data(as_text=True)) == ["2029", "2028", "2027"]


def test_tax_years_of_the_open_round_and_stored_with_the_revision(operator, client, app):
    _round(app, "2030年引进人才需求申报", datetime(2030, 1, 2, 9))
    from talentadmin.core.timeutil import to_local

    opens = utcnow() - timedelta(minutes=5)
    with app.app_context():  # the round open now: the year it opened in, office time
        db.session.add(Round(name="本年度申报", opens_at=opens,
                             closes_at=opens + timedelta(days=3)))
        db.session.commit()
        year = to_local(opens).year
    assert _years(client.get(APPLY).get_data(as_text=True)) == [
        str(year - 1), str(year - 2), str(year - 3)]
    operator.post_multipart(APPLY, permit_form_data())
    (revision,) = revisions(app)
    assert [y for y, _amount in revision.taxes] == [year - 1, year - 2, year - 3]


def test_tax_year_labels_follow_the_round_in_chinese_too(certified, portal, client, app):
    certified("13800138000")
    portal.login_password("13800138000", PASSWORD)
    _round(app, "2023年引进人才需求申报", datetime(2023, 3, 1, 9))
    page = client.get(APPLY).get_data(as_text=True)
    assert "2022年纳税额（万元）" in page and "2020年缴纳税费凭证" in page
    response = portal.post_multipart(APPLY, permit_form_data())
    assert response.status_code == 302
    assert [f.label for f in revisions(app)[0].files][1:] == [
        "2022年缴纳税费凭证", "2021年缴纳税费凭证", "2020年缴纳税费凭证"]


def test_png_and_pdf_mixed_in_one_year(operator, app):
    response = operator.post_multipart(APPLY, permit_form_data(
        tax_file_3=[(io.BytesIO(png_bytes()), "1.png"), (io.BytesIO(pdf_bytes()), "2.pdf")]))
    assert response.status_code == 302
    kinds = [f.attachment.kind for f in revisions(app)[0].files if f.slot == "tax:3"]
    assert kinds == ["png", "pdf"]


def test_change_of_data_for_a_later_round_keeps_each_years_amount_under_its_year(
        operator, app, client):
    from .test_portal import _decide

    year = utcnow().year  # no round: the three years before this one
    operator.post_multipart(APPLY, permit_form_data())
    (revision,) = revisions(app)
    assert _decide(app, revision.id, "approve")
    _round(app, "下一批次", datetime(year + 1, 3, 1, 9))  # the next round asks for one year on
    page = client.get(APPLY).get_data(as_text=True)
    assert _years(page) == [str(year), str(year - 1), str(year - 2)]
    values = dict(re.findall(r'name="(tax_\d)"[^>]*value="([^"]*)"', page))
    assert values.get("tax_1", "") == ""  # a year never declared: empty
    assert (values["tax_2"], values["tax_3"]) == ("125.50", "98.00")
    kept = dict(re.findall(r'name="(tax_file_\d_keep)"[^>]*value="([^"]*)"', page))
    assert kept["tax_file_1_keep"] == ""
    files = {f.slot: f.attachment_id for f in revision.files}
    assert kept["tax_file_2_keep"] == str(files["tax:1"])
    assert kept["tax_file_3_keep"] == str(files["tax:2"])
