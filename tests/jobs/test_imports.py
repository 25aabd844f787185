"""The old system's data imported from the back office: an admin uploads the file, a dry-run
job checks it (each row: would be imported, or refused and why), then the import runs as a
job on the file that was checked; a wrong header imports nothing; duplicates are refused;
only admins may import. Without a broker (the suite) a job runs right after the commit of the
request that starts it; tests/jobs/test_worker.py runs one through a real worker."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from talentadmin.core.models import AuditEvent
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db
from talentadmin.jobs import imports
from talentadmin.jobs.models import ImportJob, PendingImport

from ..conftest import csrf_in, staff_client
from ..declarations.test_importer import (  # noqa: F401
    HEADER,
    NOBODY_CODE,
    OTHER_CODE,
    OTHER_UNIT,
    WOMAN,
    row,
    unit,
    write_csv,
)

URL = "/admin/legacy_import/"


def upload(client, path: Path, name: str | None = None, **form):
    token = csrf_in(client.get(URL).get_data(as_text=True))
    return client.post(URL + "check", data={
        "csrf_token": token, "file": (io.BytesIO(path.read_bytes()), name or path.name),
        **form}, content_type="multipart/form-data")


def checked(client, path: Path, **form) -> tuple[int, str]:
    """Upload ``path``: the dry-run job's id and its page."""
    response = upload(client, path, **form)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    job_id = int(re.search(r"/job/(\d+)$", response.location).group(1))
    return job_id, client.get(response.location).get_data(as_text=True)


def run(client, job_id: int, page: str):
    return client.post(f"{URL}job/{job_id}/run", data={"csrf_token": csrf_in(page)})


def declarations(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Declaration)).scalar_one()


def pending(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PendingImport))


def stored_files(app) -> list[Path]:
    return sorted((Path(app.instance_path) / "imports").glob("*"))


def test_dry_run_then_run(app, client, staff_login, unit, tmp_path):  # noqa: F811
    staff_login("importer", "admin")
    path = write_csv(tmp_path / "old.csv", [row(1), row(2, 姓名="张三（重复）"),
                                              row(3, 身份证号=WOMAN)])
    job_id, page = checked(client, path)
    assert 'data-status="done" data-dry-run="true"' in page
    assert 'data-imported="2" data-refused="1"' in page
    assert '<tr data-row="3" data-imported="false">' in page
    assert page.index('data-row="3"') < page.index('data-row="2"')  # refused rows first
    assert "duplicate: the same person as row 2" in page
    assert declarations(app) == 0  # nothing saved by the dry run

    response = run(client, job_id, page)
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert 'data-status="done" data-dry-run="false"' in page
    assert 'data-imported="2" data-refused="1"' in page
    assert declarations(app) == 2
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        assert job.run_id is not None
        assert not (Path(app.instance_path) / "imports" / job.stored).exists()  # imported
    again = run(client, job_id, page)  # a second click: the same import, not a second one
    assert again.status_code == 302 and declarations(app) == 2
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 2
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"declaration.import.check", "declaration.import.run"} <= actions
    listing = client.get(URL).get_data(as_text=True)
    assert 'id="import-jobs"' in listing and "old.csv" in listing


def test_the_whole_report_as_csv(app, client, staff_login, unit, tmp_path):  # noqa: F811
    staff_login("importer", "admin")
    path = write_csv(tmp_path / "old.csv", [row(1), row(2, 身份证号="110105198506150000")])
    job_id, page = checked(client, path)
    response = client.get(f"{URL}job/{job_id}/report.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(lines) == 3 and [line[0] for line in lines[1:]] == ["3", "2"]  # refused first
    assert "110105198506150000" not in response.get_data(as_text=True)  # masked IDs only
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "declaration.import.report")) == 1


def test_wrong_header_imports_nothing(app, client, staff_login, unit, tmp_path):  # noqa: F811
    staff_login("importer", "admin")
    path = write_csv(tmp_path / "bad.csv", [row(1)], header=["序号", *HEADER[2:], "x"])
    job_id, page = checked(client, path)
    assert 'data-status="failed"' in page and "alert-danger" in page
    assert "未导入任何数据" in page  # Nothing was imported: <why>
    assert 'id="import-run"' not in page and 'id="import-restart"' not in page
    with app.app_context():
        stored = db.session.get(ImportJob, job_id).stored
    assert declarations(app) == 0
    assert not [p for p in stored_files(app) if p.name.startswith(stored)]  # nothing kept


def test_unknown_round_imports_nothing(app, client, staff_login, unit, tmp_path):  # noqa: F811
    staff_login("importer", "admin")
    job_id, page = checked(client, write_csv(tmp_path / "old.csv", [row(1)]),
                           round="没有这个批次")
    assert 'data-status="failed"' in page and "no round has this name" in page
    assert declarations(app) == 0


def test_bad_uploads_and_bad_ids(app, client, staff_login, unit, tmp_path):  # noqa: F811
    staff_login("importer", "admin")
    path = write_csv(tmp_path / "old.csv", [row(1)])
    for name in ("old.exe", "old", "../old.csv.py"):
        response = upload(client, path, name=name)
        assert response.status_code == 302 and response.location.endswith(URL), name
    no_file = client.post(URL + "check", data={"csrf_token": csrf_in(client.get(URL).get_data(
        as_text=True))}, content_type="multipart/form-data")
    assert no_file.status_code == 302
    assert declarations(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0
    token = csrf_in(client.get(URL).get_data(as_text=True))
    for bad in ("999999", "0", "-1", "x", "1.5"):
        assert client.get(f"{URL}job/{bad}").status_code == 404, bad
        assert client.post(f"{URL}job/{bad}/run", data={"csrf_token": token}).status_code \
            == 404, bad
    job_id, page = checked(client, path)
    assert client.post(f"{URL}job/{job_id}/run", data={}).status_code == 400  # no CSRF token
    run(client, job_id, page)
    with app.app_context():
        import_id = db.session.get(ImportJob, job_id).run_id
    # an import is not a dry run: it cannot be "run" again; a done job is not restarted
    assert run(client, import_id, page).status_code == 302
    restart = client.post(f"{URL}job/{job_id}/restart", data={"csrf_token": token})
    assert restart.status_code == 302 and declarations(app) == 1


def test_a_file_over_the_limit_is_refused_with_a_message(app, client, staff_login, unit,  # noqa: F811
                                                          tmp_path, monkeypatch):
    from talentadmin.declarations import import_admin

    monkeypatch.setattr(import_admin, "MAX_BYTES", 1000)
    staff_login("importer", "admin")
    path = write_csv(tmp_path / "old.csv", [row(n, 姓名=f"张{n}") for n in range(1, 30)])
    assert path.stat().st_size > 1000
    response = upload(client, path)
    assert response.status_code == 302 and response.location.endswith(URL)
    page = client.get(URL).get_data(as_text=True)
    assert "alert-danger" in page and "0 MB" in page  # larger than 0 MB (1000 bytes here)
    assert declarations(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_a_body_larger_than_the_site_cap_reaches_the_import(app, client, staff_login,
                                                           unit, tmp_path):  # noqa: F811
    """The import takes files up to its own limit (50 MB: about 100,000 rows), above the
    12 MB every other request is capped at; CSRF is still checked on it."""
    staff_login("importer", "admin")
    assert app.config["MAX_CONTENT_LENGTH"] < 13 * 1024 * 1024
    big = tmp_path / "big.csv"
    big.write_bytes(write_csv(tmp_path / "one.csv", [row(1)]).read_bytes()
                    + b"\n" * (13 * 1024 * 1024))  # empty rows are skipped
    job_id, page = checked(client, big)
    assert 'data-status="done"' in page and 'data-imported="1"' in page
    forged = client.post(URL + "check", data={"file": (io.BytesIO(big.read_bytes()), "b.csv")},
                         content_type="multipart/form-data")
    assert forged.status_code == 400  # no CSRF token
    elsewhere = client.post("/login", data={"x": "y" * (13 * 1024 * 1024)})
    assert elsewhere.status_code == 413  # the site's cap stands for every other page
    assert "12 MB" in elsewhere.get_data(as_text=True)  # and its page names it


def test_only_admins_import(app, make_staff, staff_login, client, unit, tmp_path):  # noqa: F811
    staff_login("importer", "admin")
    job_id, page = checked(client, write_csv(tmp_path / "old.csv", [row(1)]))
    for role in ("supervisor", "initial_reviewer", "second_reviewer"):
        browser = staff_client(app, make_staff, f"no-{role}", role)
        assert browser.get(URL).status_code in (302, 403), role
        assert browser.get(f"{URL}job/{job_id}").status_code in (302, 403), role
        assert browser.get(f"{URL}job/{job_id}/report.csv").status_code in (302, 403), role
        path = write_csv(tmp_path / "old.csv", [row(1)])
        response = browser.post(URL + "check", data={
            "file": (io.BytesIO(path.read_bytes()), "old.csv")},
            content_type="multipart/form-data")
        assert response.status_code in (302, 400, 403), role
        response = browser.post(f"{URL}job/{job_id}/run")
        assert response.status_code in (302, 400, 403), role
    assert declarations(app) == 0


def approve_other_unit(app, make_enterprise, reviewer: str = "importer"):
    """A reviewer approves the certification of OTHER_UNIT (an account of its own)."""
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    from talentadmin.accounts.models import StaffUser
    from talentadmin.certification import operations
    from talentadmin.certification.models import Certification
    from talentadmin.core import storage

    from ..conftest import png_bytes

    other = make_enterprise("13800138001")
    with app.app_context(), app.test_request_context():  # a session of its own
        licence = storage.save_upload(FileStorage(BytesIO(png_bytes()), filename="l.png"),
                                      enterprise_user_id=other)
        cert = Certification(enterprise_user_id=other, licence=licence, status="manual_review",
                             name=OTHER_UNIT, credit_code=OTHER_CODE, email="hr@example.com")
        db.session.add(cert)
        db.session.commit()
        staff = db.session.scalar(select(StaffUser).where(StaffUser.username == reviewer))
        operations.approve(cert, staff)
        with app.app_context():  # before the commit: nothing imported yet
            before = db.session.scalar(select(func.count()).select_from(Declaration))
        db.session.commit()
    return other, before


def test_rows_of_an_uncertified_unit_wait_for_its_approval(app, client, staff_login,
                                                            unit,  # noqa: F811
                                                            make_enterprise, tmp_path):
    """A row whose unit has no approved certification is kept, not lost, and imported when
    a reviewer approves that unit (after the approval commits); a row of the file that is
    a duplicate of one already imported is still refused then."""
    staff_login("importer", "admin", "initial_reviewer")
    path = write_csv(tmp_path / "old.csv", [
        row(1), row(2, 统一社会信用代码=OTHER_CODE, 单位名称=OTHER_UNIT, 身份证号=WOMAN),
        row(3, 统一社会信用代码=OTHER_CODE, 单位名称=OTHER_UNIT, 身份证号=WOMAN)])
    job_id, page = checked(client, path)
    assert "kept: imported when this unit&#39;s certification is approved" in page
    assert 'data-kept="2"' in page
    page = client.get(run(client, job_id, page).location).get_data(as_text=True)
    assert 'data-imported="1" data-refused="2"' in page and declarations(app) == 1
    assert pending(app) == 2

    other, before = approve_other_unit(app, make_enterprise)
    assert before == 1
    assert declarations(app) == 2  # the kept row, imported after the approval
    assert pending(app) == 0
    with app.app_context():
        imported = db.session.scalars(select(Declaration).order_by(Declaration.id)).all()
        assert imported[1].enterprise_user_id == other and imported[1].unit_name == OTHER_UNIT


def test_a_unit_certified_while_the_import_runs(app, client, staff_login, unit,  # noqa: F811
                                                make_enterprise, tmp_path, monkeypatch):
    """The unit's approval commits after the import found it uncertified and before the
    import commits the rows it keeps: the approval's own look finds no kept row yet, so the
    import looks again after its commit and imports them."""
    from talentadmin.declarations import importer

    staff_login("importer", "admin", "initial_reviewer")
    path = write_csv(tmp_path / "old.csv", [
        row(1, 统一社会信用代码=OTHER_CODE, 单位名称=OTHER_UNIT, 身份证号=WOMAN)])
    job_id, page = checked(client, path)
    real = importer.import_file
    approvals = []

    def import_file(*args, progress, **kwargs):
        def approve_at_the_end(done, total):
            progress(done, total)
            if done == total and not kwargs["dry_run"] and not approvals:
                approvals.append(approve_other_unit(app, make_enterprise))
        return real(*args, progress=approve_at_the_end, **kwargs)

    monkeypatch.setattr(importer, "import_file", import_file)
    run(client, job_id, page)
    assert approvals and approvals[0][1] == 0  # approved during the import, none imported
    assert declarations(app) == 1 and pending(app) == 0
    with app.app_context():
        assert db.session.scalar(select(Declaration.unit_name)) == OTHER_UNIT


def test_kept_rows_stay_kept_while_the_unit_is_uncertified(app, client, staff_login,
                                                           unit,  # noqa: F811
                                                           tmp_path):
    staff_login("importer", "admin")
    job_id, page = checked(client, write_csv(tmp_path / "old.csv", [
        row(1, 统一社会信用代码=NOBODY_CODE)]))
    assert 'id="import-run"' in page  # nothing imported now, but the row would be kept
    run(client, job_id, page)
    with app.app_context():  # still no approved certification: kept again, not imported
        assert imports.import_pending_for(NOBODY_CODE) == 0
        assert imports.import_pending_certified() == 0
    assert pending(app) == 1 and declarations(app) == 0


def test_two_takers_of_the_kept_rows_import_each_once(app, client, staff_login,
                                                      unit, make_enterprise,  # noqa: F811
                                                      tmp_path):
    staff_login("importer", "admin", "initial_reviewer")
    job_id, page = checked(client, write_csv(tmp_path / "old.csv", [
        row(1, 统一社会信用代码=OTHER_CODE, 单位名称=OTHER_UNIT, 身份证号=WOMAN)]))
    run(client, job_id, page)
    approve_other_unit(app, make_enterprise)
    with app.app_context():  # the approval's look took them; later looks find nothing
        assert imports.import_pending_for(OTHER_CODE) == 0
        assert imports.import_pending_certified() == 0
    assert declarations(app) == 1


def test_a_job_whose_worker_stopped_fails_and_starts_again(app, client, staff_login,
                                                           unit, tmp_path):  # noqa: F811
    """A job left running by a dead worker: its progress stops moving, the page says it
    failed and that nothing was saved, and it can be started again (once)."""
    staff_login("importer", "admin")
    job_id, page = checked(client, write_csv(tmp_path / "old.csv", [row(1)]))
    with app.app_context():  # an import a worker took and then died in
        check = db.session.get(ImportJob, job_id)
        job = ImportJob(staff_id=check.staff_id, dry_run=False, stored=check.stored,
                        source=check.source, status="running",
                        started_at=check.created_at - timedelta(hours=1))
        db.session.add(job)
        db.session.flush()
        check.run_id, dead = job.id, job.id
        db.session.commit()
    page = client.get(f"{URL}job/{dead}").get_data(as_text=True)
    assert 'data-status="failed"' in page and 'id="import-restart"' in page
    assert declarations(app) == 0
    restarted = client.post(f"{URL}job/{dead}/restart", data={"csrf_token": csrf_in(page)})
    assert restarted.status_code == 302
    page = client.get(f"{URL}job/{dead}").get_data(as_text=True)
    assert 'data-status="done"' in page and declarations(app) == 1
    again = client.post(f"{URL}job/{dead}/restart", data={"csrf_token": csrf_in(page)})
    assert again.status_code == 302 and declarations(app) == 1


@pytest.mark.parametrize("age_hours", [1, 48])
def test_sweep(app, client, staff_login, unit, tmp_path, age_hours):  # noqa: F811
    staff_login("importer", "admin")
    job_id, page = checked(client, write_csv(tmp_path / "old.csv", [row(1)]))
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        job.finished_at -= timedelta(hours=age_hours)
        db.session.commit()
        stored = job.stored
        stray = imports.folder() / "0123456789abcdef0123456789abcdef.csv"
        stray.write_text("x")
        imports.sweep_expired()
        files = {p.name.split(".")[0] for p in imports.folder().iterdir()}
        assert stray.exists()  # new: its request may still be writing its job
        assert (stored.split(".")[0] in files) == (age_hours < 24)
        assert db.session.get(ImportJob, job_id).status == (
            "done" if age_hours < 24 else "expired")
        stray.unlink()
    page = client.get(f"{URL}job/{job_id}").get_data(as_text=True)
    assert ('id="import-run"' in page) == (age_hours < 24)
