"""The old system's data imported from the back office: an admin uploads the file, sees a
dry run (each row: would be imported, or refused and why), then runs it; a wrong header
imports nothing; duplicates are refused; only admins may import."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import func, select

from talentadmin.core.models import AuditEvent
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db

from ..conftest import csrf_in, staff_client
from ..declarations.test_importer import HEADER, WOMAN, row, unit, write_csv  # noqa: F401

URL = "/admin/legacy_import/"


def upload(client, path: Path, name: str | None = None, **form):
    token = csrf_in(client.get(URL).get_data(as_text=True))
    return client.post(URL + "check", data={
        "csrf_token": token, "file": (io.BytesIO(path.read_bytes()), name or path.name),
        **form}, content_type="multipart/form-data")


def declarations(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Declaration)).scalar_one()


def pending_files(app) -> list[Path]:
    return list((Path(app.instance_path) / "imports").glob("*"))


def test_dry_run_then_run(app, client, staff_login, unit, tmp_path):  # noqa: F811
    staff_login("importer", "admin")
    path = write_csv(tmp_path / "old.csv", [row(1), row(2, 姓名="张三（重复）"),
                                              row(3, 身份证号=WOMAN)])
    response = upload(client, path)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-dry-run="true" data-imported="2" data-refused="1"' in page
    assert '<tr data-row="3" data-imported="false">' in page
    assert "duplicate: the same person as row 2" in page
    assert declarations(app) == 0  # nothing saved by the dry run
    token = page.split('name="token" value="', 1)[1].split('"', 1)[0]
    response = client.post(URL + "run", data={"csrf_token": csrf_in(page), "token": token,
                                              "round": ""})
    page = response.get_data(as_text=True)
    assert 'data-dry-run="false" data-imported="2" data-refused="1"' in page
    assert declarations(app) == 2
    assert not (Path(app.instance_path) / "imports" / token).exists()
    again = client.post(URL + "run", data={"csrf_token": csrf_in(page), "token": token})
    assert again.status_code == 302 and declarations(app) == 2  # run once only
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"declaration.import.check", "declaration.import.run"} <= actions


def test_wrong_header_imports_nothing(app, client, staff_login, unit, tmp_path):  # noqa: F811
    staff_login("importer", "admin")
    before = len(pending_files(app)) if (Path(app.instance_path) / "imports").exists() else 0
    path = write_csv(tmp_path / "bad.csv", [row(1)], header=["序号", *HEADER[2:], "x"])
    response = upload(client, path)
    assert response.status_code == 302
    page = client.get(URL).get_data(as_text=True)
    assert "alert-danger" in page and "未导入任何数据" in page  # Nothing was imported
    assert declarations(app) == 0 and len(pending_files(app)) == before  # not kept


def test_bad_uploads(app, client, staff_login, unit, tmp_path):  # noqa: F811
    staff_login("importer", "admin")
    path = write_csv(tmp_path / "old.csv", [row(1)])
    assert upload(client, path, name="old.exe").status_code == 302
    page = client.get(URL).get_data(as_text=True)
    token = csrf_in(page)
    for bad in ("../../app.py", "x.csv", "0" * 32 + ".py", ""):
        response = client.post(URL + "run", data={"csrf_token": token, "token": bad})
        assert response.status_code == 400, bad
    missing = client.post(URL + "run", data={"csrf_token": token, "token": "0" * 32 + ".csv"})
    assert missing.status_code == 302 and declarations(app) == 0


def test_only_admins_import(app, make_staff, unit, tmp_path):  # noqa: F811
    for role in ("supervisor", "initial_reviewer", "second_reviewer"):
        browser = staff_client(app, make_staff, f"no-{role}", role)
        assert browser.get(URL).status_code in (302, 403), role
        path = write_csv(tmp_path / "old.csv", [row(1)])
        response = browser.post(URL + "check", data={
            "file": (io.BytesIO(path.read_bytes()), "old.csv")},
            content_type="multipart/form-data")
        assert response.status_code in (302, 400, 403), role
    assert declarations(app) == 0


def test_rows_of_an_uncertified_unit_wait_for_its_approval(app, client, staff_login,
                                                            unit,  # noqa: F811
                                                            make_enterprise, tmp_path):
    """A row whose unit has no approved certification is kept, not lost, and imported when
    a reviewer approves that unit (after the approval commits); a row of the file that is
    a duplicate of one already imported is still refused then."""
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    from talentadmin.accounts.models import StaffUser
    from talentadmin.certification import operations
    from talentadmin.certification.models import Certification
    from talentadmin.core import storage
    from talentadmin.jobs.models import PendingImport

    from ..conftest import png_bytes
    from ..declarations.test_importer import OTHER_CODE, OTHER_UNIT

    staff_login("importer", "admin", "initial_reviewer")
    path = write_csv(tmp_path / "old.csv", [
        row(1), row(2, 统一社会信用代码=OTHER_CODE, 单位名称=OTHER_UNIT, 身份证号=WOMAN),
        row(3, 统一社会信用代码=OTHER_CODE, 单位名称=OTHER_UNIT, 身份证号=WOMAN)])
    page = upload(client, path).get_data(as_text=True)
    assert "kept: imported when this unit&#39;s certification is approved" in page
    token = page.split('name="token" value="', 1)[1].split('"', 1)[0]
    page = client.post(URL + "run", data={"csrf_token": csrf_in(page), "token": token}) \
        .get_data(as_text=True)
    assert 'data-imported="1" data-refused="2"' in page and declarations(app) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PendingImport)) == 2

    other = make_enterprise("13800138001")
    with app.test_request_context():
        licence = storage.save_upload(FileStorage(BytesIO(png_bytes()), filename="l.png"),
                                      enterprise_user_id=other)
        cert = Certification(enterprise_user_id=other, licence=licence, status="manual_review",
                             name=OTHER_UNIT, credit_code=OTHER_CODE, email="hr@example.com")
        db.session.add(cert)
        db.session.commit()
        staff = db.session.scalar(select(StaffUser).where(StaffUser.username == "importer"))
        operations.approve(cert, staff)
        with app.app_context():  # before the commit: nothing imported yet
            assert db.session.scalar(select(func.count()).select_from(Declaration)) == 1
        db.session.commit()
    assert declarations(app) == 2  # the kept row, imported after the approval
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PendingImport)) == 0
        imported = db.session.scalars(select(Declaration).order_by(Declaration.id)).all()
        assert imported[1].enterprise_user_id == other and imported[1].unit_name == OTHER_UNIT


def test_kept_rows_stay_kept_while_the_unit_is_uncertified(app, client, staff_login,
                                                           unit,  # noqa: F811
                                                           tmp_path):
    from talentadmin.jobs import imports
    from talentadmin.jobs.models import PendingImport

    from ..declarations.test_importer import NOBODY_CODE

    staff_login("importer", "admin")
    path = write_csv(tmp_path / "old.csv", [row(1, 统一社会信用代码=NOBODY_CODE)])
    page = upload(client, path).get_data(as_text=True)
    assert 'id="import-run"' in page  # nothing imported now, but the row would be kept
    token = page.split('name="token" value="', 1)[1].split('"', 1)[0]
    client.post(URL + "run", data={"csrf_token": csrf_in(page), "token": token})
    with app.app_context():  # still no approved certification: kept again, not imported
        assert imports.import_pending_for(NOBODY_CODE) == 0
        assert db.session.scalar(select(func.count()).select_from(PendingImport)) == 1
    assert declarations(app) == 0
