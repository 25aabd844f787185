"""The suite's factories build what the portal builds: a record made without HTTP holds the
same values, files, timeline and audit trail as one posted through the pages."""

from __future__ import annotations

from sqlalchemy import select

from talentadmin.core.models import AuditEvent, StatusChange
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db
from talentadmin.permits.models import PermitRevision

from .conftest import declaration_form_data, permit_form_data

OTHER_ID = "110105198001010016"
# Values that differ between two records by design: keys, times, the person, the form key.
OWN = {"id", "enterprise_user_id", "created_at", "updated_at", "submitted_at", "form_key",
       "id_number_enc", "id_hash", "id_masked", "gender", "age", "name", "version",
       "permit_id", "decided_at", "decided_by_id", "reviewed_at"}


def columns(record) -> dict:
    return {c.key: getattr(record, c.key) for c in record.__table__.columns
            if c.key not in OWN}


def files(record) -> list[tuple]:
    return sorted((f.slot, f.attachment.original_name) for f in record.files)


def actions(app, target_type: str, target_id: int) -> tuple[list, list]:
    with app.app_context():
        audit = list(db.session.execute(select(AuditEvent.action).where(
            AuditEvent.target_type == target_type, AuditEvent.target_id == target_id)
            .order_by(AuditEvent.id)).scalars())
        moves = list(db.session.execute(select(StatusChange.from_status, StatusChange.to_status)
                                        .where(StatusChange.target_type == target_type,
                                               StatusChange.target_id == target_id)
                                        .order_by(StatusChange.id)).all())
    return audit, moves


def test_declare_matches_a_declaration_posted_through_the_portal(app, permitted, open_round,
                                                                 portal, declare):
    user_id = permitted("13800138000")
    made = declare(user_id)
    response = portal.post_multipart("/talent/declarations/new",
                                     declaration_form_data(id_number=OTHER_ID, name="李四"))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        ours, posted = db.session.execute(select(Declaration).order_by(Declaration.id)).scalars()
        assert ours.id == made and ours.status == "pending_initial"
        assert columns(ours) == columns(posted)
        assert files(ours) == files(posted) and len(files(ours)) == 4
        assert (ours.name, ours.gender, ours.age is not None) == ("张三", "female", True)
    assert actions(app, "declaration", made) == actions(app, "declaration", posted.id)


def test_declare_saves_a_draft_when_asked(app, permitted, open_round, declare):
    user_id = permitted("13800138000")
    draft = declare(user_id, submit=None, save_draft="1", school=None)
    with app.app_context():
        record = db.session.get(Declaration, draft)
        assert (record.status, record.school) == ("draft", None)


def test_permitted_matches_a_permit_applied_through_the_portal(app, permitted, certified,
                                                               portal, client):
    """``permitted`` applies through the form and operations; the portal's page makes the
    same revision from the same fields."""
    permitted("13800138000")
    client.post("/logout", data={"csrf_token": portal_token(client)})
    certified("13900139000", name="北京另一家科技有限公司")
    assert portal.login_password("13900139000", "correct horse 42").status_code == 302
    response = portal.post_multipart("/talent/permit/apply", permit_form_data())
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        ours, posted = db.session.execute(
            select(PermitRevision).order_by(PermitRevision.id)).scalars()
        assert ours.status == "approved" and posted.status == "pending"
        skip = {"status", "reason", "unit_name"}  # the second unit has a name of its own
        assert ({k: v for k, v in columns(ours).items() if k not in skip}
                == {k: v for k, v in columns(posted).items() if k not in skip})
        assert files(ours) == files(posted) and len(files(ours)) == 4
    audit, _ = actions(app, "permit_revision", ours.id)
    assert audit[0] == "permit.submit" == actions(app, "permit_revision", posted.id)[0][0]


def portal_token(client) -> str:
    from .conftest import csrf_in

    return csrf_in(client.get("/").get_data(as_text=True))
