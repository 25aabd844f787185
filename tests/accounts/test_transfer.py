"""The office's procedures for a lost phone or a departed operator (admins, back office):
the registered mobile number changed, or the unit moved to another account. Each with a
reason and an evidence file, a confirmation page, a stale confirmation refused, sessions
ended, SMS to both numbers, audited. Pages read in English (their strings are new)."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from sqlalchemy import select

from talentadmin.accounts.models import EnterpriseUser
from talentadmin.certification.models import Certification
from talentadmin.core.models import Attachment, AuditEvent, SmsOutbox, StatusChange
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db
from talentadmin.permits.models import Permit

from ..conftest import (
    PASSWORD,
    UNIT,
    UNIT_CODE,
    Portal,
    csrf_in,
    declaration_form_data,
    pdf_bytes,
    png_bytes,
    staff_client,
)

OLD, NEW, OTHER = "13800138000", "13700137000", "13900139000"


def english(browser) -> None:
    browser.post("/language/en", data={"csrf_token": csrf_in(browser.get("/").get_data(
        as_text=True))})


@pytest.fixture
def admin(app, make_staff):
    browser = staff_client(app, make_staff, "boss", "admin")
    english(browser)
    return browser


@pytest.fixture
def unit(app, permitted, open_round, portal):
    """The unit's account (OLD), its permission approved, one declaration submitted; the
    portal's client is logged in to it."""
    user_id = permitted(OLD)
    response = portal.post_multipart("/talent/declarations/new", declaration_form_data())
    assert response.status_code == 302
    return user_id


def enterprise_browser(app, outbox, mobile: str, password: str = PASSWORD):
    browser = app.test_client()
    assert Portal(browser, app, outbox).login_password(mobile, password).status_code == 302
    return browser


def evidence(kind: str = "pdf"):
    if kind == "pdf":
        return (io.BytesIO(pdf_bytes()), "单位说明函.pdf")
    if kind == "png":
        return (io.BytesIO(png_bytes()), "letter.png")
    return (io.BytesIO(b"MZ\x90\x00" + b"\0" * 64), "letter.pdf")


def start(browser, url: str, **fields):
    page = browser.get(url)
    assert page.status_code == 200, page.status_code
    data = {"csrf_token": csrf_in(page.get_data(as_text=True)), "reason": "原经办人离职，手机号停用",
            "evidence": evidence(), **fields}
    return browser.post(url, data={k: v for k, v in data.items() if v is not None},
                        content_type="multipart/form-data")


def confirm(browser, url: str, page: str):
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page) or re.search(
        r'id="token" name="token" type="hidden" value="([^"]+)"', page)
    assert token, page
    return browser.post(url, data={"csrf_token": csrf_in(page), "token": token.group(1)})


def account(app, user_id: int) -> EnterpriseUser:
    with app.app_context():
        return db.session.get(EnterpriseUser, user_id)


def sms_to(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(row.to, row.kind) for row in db.session.execute(
            select(SmsOutbox).order_by(SmsOutbox.id)).scalars()]


def procedure_sms(app) -> list[tuple[str, str]]:
    return [(to, kind) for to, kind in sms_to(app) if kind.startswith("account.")]


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.execute(select(AuditEvent).where(
            AuditEvent.action == action).order_by(AuditEvent.id)).scalars())


def flashed(browser, response) -> str:
    assert response.status_code == 303, response.status_code
    return browser.get(response.headers["Location"]).get_data(as_text=True)


# --- the registered mobile number ----------------------------------------------------------


def test_mobile_change_confirmed_moves_login_to_the_new_number(unit, app, admin, client,
                                                               outbox):
    url = f"/admin/enterprise_user/mobile/?id={unit}"
    shown = start(admin, url, new_mobile=NEW)
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and 'id="procedure-summary"' in page
    assert f"{OLD} → <strong>{NEW}</strong>" in page and "单位说明函.pdf" in page
    assert account(app, unit).mobile == OLD  # nothing changes before the confirmation

    done = flashed(admin, confirm(admin, url, page))
    assert "The registered mobile number was changed" in done
    user = account(app, unit)
    assert (user.mobile, user.password_hash) == (NEW, None)
    # The old session (the portal's client) has ended; the old password opens nothing.
    assert client.get("/talent/declare").status_code == 302
    assert Portal(app.test_client(), app, outbox).login_password(OLD, PASSWORD).status_code \
        == 400
    # SMS to both numbers, and a notice in the portal.
    assert (OLD, "account.mobile_changed") in sms_to(app)
    assert (NEW, "account.mobile_changed") in sms_to(app)
    (event,) = events(app, "enterprise.mobile_reassign")
    assert event.detail["from"] == "138****8000" and event.detail["to"] == "137****7000"
    assert event.detail["reason"] == "原经办人离职，手机号停用" and event.actor_label == "boss"
    # The new number logs in by SMS and finds the unit's declaration.
    browser = app.test_client()
    Portal(browser, app, outbox).login_sms(NEW)
    assert "张三" in browser.get("/talent/declare").get_data(as_text=True)
    # The account's page lists the procedure; its evidence opens for staff.
    details = admin.get(f"/admin/enterprise_user/details/?id={unit}").get_data(as_text=True)
    assert "Mobile number changed by the office" in details
    link = re.search(r'href="(/admin/enterprise_user/evidence/[^"]+)"', details).group(1)
    response = admin.get(link.replace("&amp;", "&"))
    with app.app_context():
        stored = db.session.get(Attachment, event.detail["evidence"])
        assert stored.enterprise_user_id is None and stored.original_name == "单位说明函.pdf"
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == stored.sha256


@pytest.mark.parametrize(("fields", "message"), [
    ({"new_mobile": "1380013800"}, "Enter an 11-digit mainland mobile number"),
    ({"new_mobile": "23800138000"}, "Enter an 11-digit mainland mobile number"),
    ({"new_mobile": ""}, "This field is required"),
    ({"new_mobile": OLD}, "This is already the account&#39;s registered number."),
    ({"new_mobile": OTHER}, "This number belongs to another account"),
    ({"new_mobile": NEW, "reason": "  "}, "This field is required"),
    ({"new_mobile": NEW, "reason": "x" * 501}, "500"),
    ({"new_mobile": NEW, "evidence": None}, "Choose a file to upload."),
    ({"new_mobile": NEW, "evidence": (io.BytesIO(b""), "")}, "Choose a file to upload."),
    ({"new_mobile": NEW, "evidence": evidence("exe")}, "Only JPG, PNG or PDF files"),
])
def test_mobile_change_bad_input_is_refused_beside_its_field(unit, app, admin, make_enterprise,
                                                              fields, message):
    make_enterprise(OTHER)
    response = start(admin, f"/admin/enterprise_user/mobile/?id={unit}", **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page, page
    assert 'id="procedure-summary"' not in page
    assert account(app, unit).mobile == OLD and procedure_sms(app) == []
    assert events(app, "enterprise.mobile_reassign") == []


def test_a_number_registered_between_the_pages_is_refused(unit, app, admin, make_enterprise):
    url = f"/admin/enterprise_user/mobile/?id={unit}"
    page = start(admin, url, new_mobile=NEW).get_data(as_text=True)
    make_enterprise(NEW)
    done = flashed(admin, confirm(admin, url, page))
    assert "This confirmation is out of date" in done or "belongs to another account" in done
    assert account(app, unit).mobile == OLD


def test_a_stale_or_replayed_confirmation_is_refused(unit, app, admin, client):
    url = f"/admin/enterprise_user/mobile/?id={unit}"
    first = start(admin, url, new_mobile=NEW).get_data(as_text=True)
    # The operator changes the password in between: the page no longer shows what is there.
    response = client.get("/account/password")
    assert response.status_code == 200
    client.post("/account/password", data={
        "csrf_token": csrf_in(response.get_data(as_text=True)), "old_password": PASSWORD,
        "new_password": "another horse 43", "confirm": "another horse 43", "submit": "1"})
    if account(app, unit).password_hash and account(app, unit).check_password(PASSWORD):
        pytest.fail("the password change did not happen")
    done = flashed(admin, confirm(admin, url, first))
    assert "This confirmation is out of date" in done and account(app, unit).mobile == OLD
    # A fresh confirmation goes through once; sent again, it is refused.
    second = start(admin, url, new_mobile=NEW).get_data(as_text=True)
    assert "was changed" in flashed(admin, confirm(admin, url, second))
    assert "out of date" in flashed(admin, confirm(admin, url, second))
    assert len(events(app, "enterprise.mobile_reassign")) == 1


def test_a_tampered_confirmation_is_refused(unit, app, admin, make_enterprise):
    url = f"/admin/enterprise_user/mobile/?id={unit}"
    page = start(admin, url, new_mobile=NEW).get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    other = make_enterprise(OTHER)  # the page's token posted for another account
    response = admin.post(f"/admin/enterprise_user/mobile/?id={other}",
                          data={"csrf_token": csrf_in(page), "token": token})
    assert "out of date" in flashed(admin, response) and account(app, other).mobile == OTHER
    for forged in (token[:-2] + "xx", "", "not-a-token"):
        response = admin.post(url, data={"csrf_token": csrf_in(page), "token": forged})
        assert "out of date" in flashed(admin, response)
    assert account(app, unit).mobile == OLD and procedure_sms(app) == []


def test_without_csrf_nothing_happens(unit, app, admin):
    url = f"/admin/enterprise_user/mobile/?id={unit}"
    page = start(admin, url, new_mobile=NEW).get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    assert admin.post(url, data={"token": token}).status_code == 400
    assert admin.post(url, data={"new_mobile": NEW, "reason": "r",
                                 "evidence": evidence()}).status_code == 400
    assert account(app, unit).mobile == OLD


@pytest.mark.parametrize("role", ["initial_reviewer", "second_reviewer", "supervisor"])
def test_only_admins_see_and_run_the_procedures(unit, app, make_staff, role):
    browser = staff_client(app, make_staff, f"u{role}", role)
    details = browser.get(f"/admin/enterprise_user/details/?id={unit}")
    assert details.status_code == 200
    assert b"account-procedures" not in details.data
    for path in ("mobile", "move"):
        url = f"/admin/enterprise_user/{path}/?id={unit}"
        assert browser.get(url).status_code == 403
        assert browser.post(url, data={"csrf_token": csrf_in(details.get_data(as_text=True)),
                                       "new_mobile": NEW}).status_code == 403
    assert account(app, unit).mobile == OLD


def test_anonymous_and_enterprise_go_to_the_staff_login(unit, app, client):
    for browser in (client, app.test_client()):
        response = browser.get(f"/admin/enterprise_user/mobile/?id={unit}")
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_unknown_account_is_404(admin):
    for path in ("mobile", "move"):
        assert admin.get(f"/admin/enterprise_user/{path}/?id=999999").status_code == 404
        assert admin.get(f"/admin/enterprise_user/{path}/?id=abc").status_code == 404


# --- moving the unit --------------------------------------------------------------------


@pytest.fixture
def newcomer(app, make_enterprise):
    """The new operator's account: registered, its certification of the same unit waiting
    for staff as a conflict (another account holds the code)."""
    from werkzeug.datastructures import FileStorage

    from talentadmin.core import storage

    user_id = make_enterprise(OTHER)
    with app.test_request_context():
        licence = storage.save_upload(FileStorage(io.BytesIO(png_bytes("gray")),
                                                  filename="l.png"), enterprise_user_id=user_id)
        db.session.add(Certification(
            enterprise_user_id=user_id, licence=licence, status="manual_review", conflict=True,
            ocr_name=UNIT, ocr_credit_code=UNIT_CODE, ocr_code_valid=True, name=UNIT,
            credit_code=UNIT_CODE, email="new@example.com"))
        db.session.commit()
    return user_id


def holdings(app, user_id: int) -> dict:
    with app.app_context():
        def ids(model):
            return sorted(db.session.execute(select(model.id).where(
                model.enterprise_user_id == user_id)).scalars())
        return {"certs": ids(Certification), "permit": ids(Permit),
                "declarations": ids(Declaration), "files": ids(Attachment)}


def test_unit_moves_with_its_records_to_the_new_account(unit, newcomer, app, admin, client,
                                                        outbox):
    before, theirs = holdings(app, unit), holdings(app, newcomer)
    with app.app_context():
        (declaration_id,) = before["declarations"]
        timeline = db.session.execute(select(StatusChange.id).where(
            StatusChange.target_type == "declaration",
            StatusChange.target_id == declaration_id)).scalars().all()
    assert timeline
    new_browser = enterprise_browser(app, outbox, OTHER)
    url = f"/admin/enterprise_user/move/?id={unit}"
    shown = start(admin, url, target_mobile=OTHER)
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and UNIT in page and UNIT_CODE in page
    assert "Declarations: 1" in page and "Business permission: yes" in page
    assert f"Files: {len(before['files'])}" in page
    assert holdings(app, unit) == before  # nothing moves before the confirmation

    done = flashed(admin, confirm(admin, url, page))
    assert "The unit was moved" in done
    after_old, after_new = holdings(app, unit), holdings(app, newcomer)
    assert after_new["declarations"] == before["declarations"]
    assert after_new["permit"] == before["permit"]
    assert after_new["certs"] == before["certs"]
    assert set(before["files"]) <= set(after_new["files"])
    assert after_old["declarations"] == after_old["permit"] == []
    assert after_old["certs"] == theirs["certs"]  # the newcomer's attempt, closed
    with app.app_context():
        attempt = db.session.get(Certification, theirs["certs"][0])
        assert (attempt.status, attempt.reason) == ("rejected", "原经办人离职，手机号停用")
        assert db.session.execute(select(StatusChange.id).where(
            StatusChange.target_type == "declaration",
            StatusChange.target_id == declaration_id)).scalars().all() == timeline
    # Both sessions ended: each logs in again.
    assert client.get("/talent/declare").status_code == 302
    assert new_browser.get("/talent/declare").status_code == 302
    new_browser = enterprise_browser(app, outbox, OTHER)
    hub = new_browser.get("/talent/declare").get_data(as_text=True)
    assert "张三" in hub
    assert new_browser.get(f"/talent/declarations/{declaration_id}").status_code == 200
    status = new_browser.get("/certification/")
    assert status.status_code == 200, status.headers.get("Location")
    assert UNIT in status.get_data(as_text=True), status.get_data(as_text=True)[-3000:]
    old_browser = enterprise_browser(app, outbox, OLD)
    assert old_browser.get(f"/talent/declarations/{declaration_id}").status_code == 404
    assert "张三" not in old_browser.get("/talent/declare").get_data(as_text=True)
    for file_id in before["files"]:
        assert old_browser.get(f"/files/{file_id}").status_code == 404
    # SMS to both numbers; audited on both accounts with the evidence.
    assert (OLD, "account.unit_moved") in sms_to(app)
    assert (OTHER, "account.unit_moved") in sms_to(app)
    (out,) = events(app, "enterprise.unit_move_out")
    (into,) = events(app, "enterprise.unit_move_in")
    assert out.target_id == unit and into.target_id == newcomer
    assert into.detail["declarations"] == 1 and into.detail["unit"] == UNIT
    with app.app_context():
        assert db.session.get(Attachment, into.detail["evidence"]).enterprise_user_id is None


@pytest.mark.parametrize(("case", "message"), [
    ("unknown", "No account is registered with this number"),
    ("self", "Choose another account than the one the unit is in."),
    ("holder", "That account already holds a unit&#39;s records"),
    ("disabled", "That account is disabled"),
    ("bad", "Enter an 11-digit mainland mobile number"),
])
def test_move_bad_targets_are_refused(unit, newcomer, app, admin, certified, case, message):
    target = {"unknown": "13600136000", "self": OLD, "holder": "13500135000",
              "disabled": OTHER, "bad": "1234"}[case]
    if case == "holder":
        certified("13500135000", name="北京另一家科技有限公司", code="91110108MA00GH4T3U")
    if case == "disabled":
        with app.app_context():
            db.session.get(EnterpriseUser, newcomer).active = False
            db.session.commit()
    before = holdings(app, unit)
    response = start(admin, f"/admin/enterprise_user/move/?id={unit}", target_mobile=target)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page, page
    assert holdings(app, unit) == before and procedure_sms(app) == []


def test_an_account_without_a_unit_has_nothing_to_move(newcomer, app, admin, make_enterprise):
    make_enterprise(NEW)
    response = start(admin, f"/admin/enterprise_user/move/?id={newcomer}", target_mobile=NEW)
    assert response.status_code == 400
    assert "This account holds no unit records to move." in response.get_data(as_text=True)


def test_a_move_over_changed_records_is_refused(unit, newcomer, app, admin, portal):
    url = f"/admin/enterprise_user/move/?id={unit}"
    page = start(admin, url, target_mobile=OTHER).get_data(as_text=True)
    # The operator uploads a licence again (重新认证) after the confirmation page was shown.
    response = portal.post_multipart("/certification/upload", {
        "licence": (io.BytesIO(png_bytes("red")), "licence.png")})
    assert response.status_code == 302
    before = holdings(app, unit)
    assert "out of date" in flashed(admin, confirm(admin, url, page))
    assert holdings(app, unit) == before and events(app, "enterprise.unit_move_in") == []


def test_the_conflict_page_tells_the_new_operator_what_to_do(newcomer, app, outbox):
    browser = enterprise_browser(app, outbox, OTHER)
    english(browser)
    page = browser.get("/certification/").get_data(as_text=True)
    assert 'id="conflict-next"' in page
    assert "ask the talent office to move the unit to it" in page


def test_of_two_confirmations_at_once_one_wins(unit, app, admin, monkeypatch):
    """The other confirmation commits between this one's checks and its write (simulated at
    the last check): the compare-and-set on the account's stamp refuses this one."""
    from sqlalchemy import update

    from talentadmin.accounts import transfer

    url = f"/admin/enterprise_user/mobile/?id={unit}"
    page = start(admin, url, new_mobile=NEW).get_data(as_text=True)
    checked = transfer.check_new_mobile

    def meanwhile(user, new_mobile):
        checked(user, new_mobile)
        db.session.execute(update(EnterpriseUser).where(EnterpriseUser.id == user.id)
                           .values(security_stamp="0" * 16, mobile="13600136000")
                           .execution_options(synchronize_session=False))

    monkeypatch.setattr(transfer, "check_new_mobile", meanwhile)
    assert "out of date" in flashed(admin, confirm(admin, url, page))
    assert account(app, unit).mobile == OLD and procedure_sms(app) == []
    assert events(app, "enterprise.mobile_reassign") == []
