"""An admin moves a unit to the new operator's account in a real browser: from the account's
page, through the form with its evidence file, to the confirmation page and back to the
account's page with the procedure listed (English, under our CSP)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from talentadmin.certification.models import Certification
from talentadmin.extensions import db

from ..conftest import UNIT, UNIT_CODE, png_bytes
from .test_admin_layout import staff_page, violations

pytestmark = pytest.mark.browser

OLD, OTHER = "13800138000", "13900139000"


def test_admin_moves_a_unit_through_the_confirmation(app, contexts, shot, certified,
                                                     make_enterprise, make_staff, tmp_path):
    from werkzeug.datastructures import FileStorage

    from talentadmin.core import storage

    unit = certified(OLD)
    newcomer = make_enterprise(OTHER)
    with app.test_request_context():
        licence = storage.save_upload(FileStorage(io.BytesIO(png_bytes("gray")),
                                                  filename="l.png"), enterprise_user_id=newcomer)
        db.session.add(Certification(
            enterprise_user_id=newcomer, licence=licence, status="manual_review", conflict=True,
            name=UNIT, credit_code=UNIT_CODE, ocr_name=UNIT, ocr_credit_code=UNIT_CODE))
        db.session.commit()
    letter = tmp_path / "letter.png"
    letter.write_bytes(png_bytes("blue"))

    page = staff_page(contexts, make_staff, "boss", "en", "admin")
    page.goto(f"/admin/enterprise_user/details/?id={unit}")
    page.locator("#account-procedures a[href*='/move/']").click()
    page.locator("input[name=target_mobile]").fill(OTHER)
    page.locator("textarea[name=reason]").fill("The operator left; the unit's letter attached.")
    page.locator("input[name=evidence]").set_input_files(str(letter))
    shot("form")
    page.locator("#procedure-form button[type=submit]").click()
    summary = page.locator("#procedure-summary")
    summary.wait_for()
    assert UNIT in summary.inner_text() and OTHER in summary.inner_text()
    assert "letter.png" in summary.inner_text()
    shot("confirmation")
    page.locator("#procedure-confirm button[type=submit]").click()
    page.locator("#procedure-history").wait_for()
    assert "The unit was moved" in page.content()
    shot("done")
    assert violations(page) == []
    with app.app_context():
        owners = set(db.session.execute(select(Certification.enterprise_user_id)).scalars())
        assert owners == {unit, newcomer}
        moved = db.session.execute(select(Certification.enterprise_user_id).where(
            Certification.status == "approved")).scalar_one()
        assert moved == newcomer
