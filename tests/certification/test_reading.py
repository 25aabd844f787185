"""The licence is read off the request: an upload opens the certification in ``reading``, a
worker (here: right after the commit, or by hand to play a worker that has not come yet) reads
it in a transaction of its own, and the confirm page waits for it. A reading that never comes
is sent again, then given up (the operator types the values); two readers record it once; no
database transaction is open while the engine reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from talentadmin.certification import operations, workflow
from talentadmin.certification.models import Certification
from talentadmin.core.models import AuditEvent
from talentadmin.extensions import db
from talentadmin.jobs import readings

from ..conftest import PASSWORD, png_bytes
from .test_portal import DONGGUAN, MOBILE, _box, _reading_of, upload

CODE = "91441900MA4UKX3K8D"
LINES = [_box("营业执照", 100, 40), _box("统一社会信用代码", 40, 120),
         _box(CODE, 300, 120), _box("名称", 40, 200), _box(DONGGUAN, 140, 200)]


@pytest.fixture
def operator(portal, make_enterprise):
    make_enterprise(MOBILE)
    assert portal.login_password(MOBILE, PASSWORD).status_code == 302
    return portal


@pytest.fixture
def no_worker_yet(monkeypatch):
    """Uploads wait for a worker that has not come: the test reads them when it says."""
    monkeypatch.setattr(readings, "after_upload", lambda cert_id: None)


@pytest.fixture
def reads(monkeypatch):
    """The engine reads LINES; each call notes whether a transaction was open meanwhile."""
    from talentadmin.certification import ocr

    calls = []

    def read_licence(*args, **kwargs):
        calls.append(db.session().in_transaction())
        return _reading_of(LINES)

    monkeypatch.setattr(ocr, "read_licence", read_licence)
    return calls


def only(app) -> Certification:
    with app.app_context():
        (cert,) = db.session.scalars(select(Certification)).all()
        db.session.expunge(cert)
        return cert


def backdate(app, minutes: int) -> None:
    """The upload as made ``minutes`` ago."""
    with app.app_context():
        cert = db.session.scalars(select(Certification)).one()
        cert.created_at -= timedelta(minutes=minutes)
        db.session.commit()


def events(app, action: str) -> list[dict]:
    with app.app_context():
        return [e.detail for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action))]


def test_the_confirm_page_waits_for_the_reading(app, operator, client, no_worker_yet, reads):
    response = upload(client, png_bytes(), "licence.png")
    assert response.status_code == 302  # taken at once: nothing read in the request
    assert reads == [] and only(app).status == workflow.READING
    waiting = client.get(response.location)
    page = waiting.get_data(as_text=True)
    assert waiting.status_code == 200 and 'id="licence-reading"' in page
    assert waiting.headers["Refresh"] == "3"
    assert client.get("/certification/").location.endswith(response.location)

    with app.app_context():  # the worker comes
        assert operations.read(only(app).id) is True
    assert reads == [False]  # no transaction open while the engine read
    page = client.get(response.location).get_data(as_text=True)
    assert 'id="licence-reading"' not in page and CODE in page and DONGGUAN in page
    cert = only(app)
    assert cert.status == workflow.RECOGNISED and cert.ocr_credit_code == CODE
    (read,) = events(app, "certification.read")
    assert read["code_read"] and read["name_read"] and read["engine"] == "rapidocr"


def test_two_readers_record_it_once(app, operator, client, no_worker_yet, reads):
    upload(client, png_bytes(), "licence.png")
    cert_id = only(app).id
    with app.app_context():
        assert operations.read(cert_id) is True
    with app.app_context():
        assert operations.read(cert_id) is False  # the message delivered twice
    assert len(reads) == 1
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("certification.%"), AuditEvent.action.like("%read%"))) == 1


def test_a_reader_that_loses_the_race_changes_nothing(app, operator, client, no_worker_yet,
                                                      monkeypatch):
    """Two workers read at once: the one that records second finds the record moved and
    leaves the first one's values."""
    from talentadmin.certification import ocr

    upload(client, png_bytes(), "licence.png")
    cert_id = only(app).id

    def read_licence(*args, **kwargs):  # the other worker records while this one reads
        monkeypatch.setattr(ocr, "read_licence", lambda *a, **k: _reading_of(LINES))
        with app.app_context():
            assert operations.read(cert_id) is True
        return _reading_of([_box("名称", 40, 200), _box("别的公司", 140, 200)])

    monkeypatch.setattr(ocr, "read_licence", read_licence)
    with app.app_context():
        assert operations.read(cert_id) is False
    cert = only(app)
    assert cert.status == workflow.RECOGNISED and cert.ocr_name == DONGGUAN


def test_an_unreadable_licence_is_typed(app, operator, client, no_worker_yet, monkeypatch):
    from talentadmin.certification import ocr

    def fails(*args, **kwargs):
        raise ocr.UnreadableUpload("not a picture after all")

    monkeypatch.setattr(ocr, "read_licence", fails)
    response = upload(client, png_bytes(), "licence.png")
    with app.app_context():
        assert operations.read(only(app).id) is True
    page = client.get(response.location).get_data(as_text=True)
    assert 'id="licence-unread"' in page and only(app).ocr_name is None


def test_a_reading_that_never_comes_is_given_up(app, operator, client, no_worker_yet, reads):
    response = upload(client, png_bytes(), "licence.png")
    backdate(app, minutes=10)
    page = client.get(response.location).get_data(as_text=True)
    assert 'id="licence-unread"' in page  # the operator types the values
    assert only(app).status == workflow.RECOGNISED and reads == []
    assert [d.get("gave_up") for d in events(app, "certification.read")] == [True]


@pytest.mark.parametrize("minutes, expected", [(0, workflow.READING), (2, workflow.RECOGNISED),
                                               (10, workflow.RECOGNISED)])
def test_the_sweep(app, operator, client, no_worker_yet, reads, minutes, expected):
    """A reading waiting over a minute is read again (here, without a task queue, by the
    sweep itself); one past the stale limit is given up."""
    upload(client, png_bytes(), "licence.png")
    backdate(app, minutes=minutes)
    with app.app_context():
        handled = readings.sweep()
    cert = only(app)
    assert cert.status == expected and handled == (minutes > 0)
    assert (cert.ocr_credit_code == CODE) == (minutes == 2)
    assert len(reads) == (1 if minutes == 2 else 0)
