"""Two enterprises' records, written straight to the database (fast), for the access tests:
each has an approved certification, one waiting for review and one never submitted, a permit
in force and a change of it under review, a declaration in every state, each with a file,
and an upload no form ever submitted."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from werkzeug.datastructures import FileStorage

from talentadmin.extensions import db

from ..conftest import pdf_bytes, png_bytes

DECLARATION_STATES = ("draft", "pending_initial", "pending_second", "completed", "rejected")


@dataclass
class Records:
    """The ids of one enterprise's records."""

    user: int = 0
    mobile: str = ""
    cert: int = 0  # approved
    cert_unsent: int = 0  # read by OCR, never submitted
    cert_review: int = 0  # submitted, waiting for a reviewer
    licence: int = 0  # attachment ids
    licence_unsent: int = 0
    revision: int = 0
    revision_file: int = 0
    revision_attachment: int = 0
    revision_pending: int = 0  # a change under review
    revision_pending_file: int = 0
    declarations: dict[str, int] = field(default_factory=dict)  # state -> id
    declaration_files: dict[str, int] = field(default_factory=dict)  # state -> file id
    attachments: dict[str, int] = field(default_factory=dict)  # state -> attachment id
    orphan: int = 0  # an upload of a form that was never submitted
    round: int = 0


def build(app, mobile: str, unit: str = "北京云帆智联科技有限公司",
          code: str = "91110105MA01R8DQ2M", person: str = "张三", round_id: int | None = None,
          label: str = "学历证书") -> Records:
    """Every kind of record of one new enterprise account (password ``PASSWORD``)."""
    from talentadmin.accounts.models import EnterpriseUser
    from talentadmin.certification.models import Certification
    from talentadmin.core import storage
    from talentadmin.core.timeutil import utcnow
    from talentadmin.declarations.models import Declaration, DeclarationFile, Round
    from talentadmin.permits.models import Permit, PermitFile, PermitRevision

    from ..conftest import PASSWORD

    out = Records(mobile=mobile)
    with app.test_request_context():
        user = EnterpriseUser(mobile=mobile, active=True)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.flush()
        out.user = user.id
        seed = int(mobile[-4:])

        def upload(kind: str = "pdf", n: int = 0):
            data = pdf_bytes() if kind == "pdf" else png_bytes(f"#{(seed * 7 + n) % 256:02x}0000")
            if kind == "pdf":  # a different file each time (content-addressed storage)
                data += b"\n%% " + f"{mobile}-{n}".encode()
            return storage.save_upload(FileStorage(io.BytesIO(data), filename=f"f{n}.{kind}"),
                                       enterprise_user_id=user.id)

        now = utcnow()
        approved = Certification(
            enterprise_user_id=user.id, licence=upload("png", 1), status="approved",
            ocr_name=unit, ocr_credit_code=code, ocr_code_valid=True, name=unit,
            credit_code=code, email="hr@example.com", submitted_at=now)
        unsent = Certification(enterprise_user_id=user.id, licence=upload("png", 2),
                               status="recognised", ocr_name=unit, ocr_credit_code=code)
        review = Certification(
            enterprise_user_id=user.id, licence=upload("png", 4), status="manual_review",
            ocr_name=unit, ocr_credit_code=code, name=unit, credit_code=code,
            email="hr@example.com", submitted_at=now)
        db.session.add_all([approved, unsent, review])
        revision = PermitRevision(
            permit=Permit(enterprise_user_id=user.id), unit_name=unit, credit_code=code,
            registered_district="chaoyang", tax_district="chaoyang", field="ai",
            contact_name="王经办", contact_mobile="13900001111", intro="", status="approved",
            tax_year_1=2025, tax_amount_1=Decimal(1), tax_year_2=2024, tax_amount_2=Decimal(1),
            tax_year_3=2023, tax_amount_3=Decimal(1))
        revision.files.append(PermitFile(attachment=upload("pdf", 3), slot="tax:1",
                                         label="2025年度纳税证明"))
        db.session.add(revision)
        db.session.flush()
        revision.permit.in_force_id = revision.id
        change_file = PermitFile(attachment=upload("pdf", 5), slot="tax:1",
                                 label="2025年度纳税证明")
        change = PermitRevision(  # a change of the approved permit, waiting for review
            permit=revision.permit, number=2, files=[change_file], status="pending", unit_name=unit,
            credit_code=code, registered_district="haidian", tax_district="haidian",
            field="ai", contact_name="王经办", contact_mobile="13900001111", intro="",
            tax_year_1=2025, tax_amount_1=Decimal(2), tax_year_2=2024, tax_amount_2=Decimal(2),
            tax_year_3=2023, tax_amount_3=Decimal(2))
        db.session.add(change)
        if round_id is None:
            round_ = Round(name="2026年引进人才需求申报", opens_at=now - timedelta(days=1),
                           closes_at=now + timedelta(days=30))
            db.session.add(round_)
            db.session.flush()
            round_id = round_.id
        for n, state in enumerate(DECLARATION_STATES):
            declaration = Declaration(
                enterprise_user_id=user.id, round_id=round_id, status=state, unit_name=unit,
                credit_code=code, name=person, id_masked="1101**********002X",
                rejected_stage="initial" if state == "rejected" else None,
                submitted_at=None if state == "draft" else now)
            declaration.files = [DeclarationFile(attachment=upload("pdf", 10 + n),
                                                 slot="evidence", label=label)]
            db.session.add(declaration)
            db.session.flush()
            out.declarations[state] = declaration.id
            out.declaration_files[state] = declaration.files[0].id
            out.attachments[state] = declaration.files[0].attachment_id
        out.orphan = upload("pdf", 30).id
        db.session.commit()
        out.cert, out.licence = approved.id, approved.licence_id
        out.cert_unsent, out.licence_unsent = unsent.id, unsent.licence_id
        out.cert_review = review.id
        out.revision, out.revision_file = revision.id, revision.files[0].id
        out.revision_attachment = revision.files[0].attachment_id
        out.revision_pending, out.revision_pending_file = change.id, change.files[0].id
        out.round = round_id
    return out
