"""Municipal exports as jobs (tasks run here, after the commit, without a task queue): a
progress page, then the download of a complete stored file, only for the supervisor who
made it (audited); a job whose worker died shows failed, keeps no partial file and can be
started again; expired files are swept."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from talentadmin.core.models import AuditEvent
from talentadmin.core.timeutil import utcnow
from talentadmin.extensions import db
from talentadmin.jobs import exports
from talentadmin.jobs.models import ExportJob

from ..conftest import UNIT, csrf_in, staff_client
from ..declarations.test_review import IDS, _complete_all, three  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def no_files(app):
    """The instance folder is the session's: each test starts with no export file (job ids
    start again with each test's database)."""
    import shutil

    shutil.rmtree(Path(app.instance_path) / "exports", ignore_errors=True)


@pytest.fixture
def as_job(app, monkeypatch):
    """Every export is a job (the streaming limit set to no rows)."""
    monkeypatch.setitem(app.config, "EXPORT_STREAM_ROWS", 0)
    monkeypatch.setitem(app.config, "EXPORT_STREAM_ROWS_CSV", 0)


def job_of(app, job_id: int) -> ExportJob:
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        db.session.expunge(job)
        return job


def files(app) -> list[str]:
    return sorted(path.name for path in (Path(app.instance_path) / "exports").glob("*"))


def start(client, kind: str = "csv") -> int:
    response = client.get(f"/admin/declaration_all/municipal/{kind}/")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_small_exports_still_stream(client, staff_login, three):  # noqa: F811
    _complete_all(client, three, staff_login)
    response = client.get("/admin/declaration_all/municipal/csv/")
    assert response.status_code == 200 and response.mimetype == "text/csv"


def test_the_line_is_per_format(app, client, staff_login, three, monkeypatch):  # noqa: F811
    """An XLSX sends nothing until it is whole, a CSV streams at once: the same rows may
    stream as CSV and be a job as XLSX."""
    _complete_all(client, three, staff_login)
    monkeypatch.setitem(app.config, "EXPORT_STREAM_ROWS", 2)
    monkeypatch.setitem(app.config, "EXPORT_STREAM_ROWS_CSV", 3)
    response = client.get("/admin/declaration_all/municipal/csv/")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data(as_text=True).count("\n") == 4  # the header and three rows
    assert job_of(app, start(client, "xlsx")).kind == "xlsx"
    monkeypatch.setitem(app.config, "EXPORT_STREAM_ROWS_CSV", 2)
    assert job_of(app, start(client, "csv")).kind == "csv"


def test_csv_job_shows_done_then_downloads_the_file(app, client, staff_login, three,  # noqa: F811
                                                    as_job):
    _complete_all(client, three, staff_login)
    job_id = start(client)
    job = job_of(app, job_id)
    assert (job.status, job.written, job.total) == ("done", 3, 3)
    assert files(app) == [job.stored] and not job.stored.endswith(".part")
    page = client.get(f"/admin/declaration_all/export-job/{job_id}/").get_data(as_text=True)
    assert 'data-status="done"' in page and 'http-equiv="refresh"' not in page
    response = client.get(f"/admin/declaration_all/export-job/{job_id}/download")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [row[0] for row in table[1:]] == ["1", "2", "3"]
    assert [row[4] for row in table[1:]] == [IDS[0], *("\t" + n for n in IDS[1:])]  # Excel
    assert table[1][11] == "'=HYPERLINK(\"x\")"
    response.close()
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "declaration.export.download")).scalar_one()
        assert event.detail == {"job": job_id, "format": "csv", "rows": 3}


def test_xlsx_job_opens(app, client, staff_login, three, as_job):  # noqa: F811
    from openpyxl import load_workbook

    _complete_all(client, three, staff_login)
    job_id = start(client, "xlsx")
    response = client.get(f"/admin/declaration_all/export-job/{job_id}/download")
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    response.close()
    assert values[0][0] == "序号" and len(values) == 4 and values[1][4] == IDS[0]


def test_another_supervisor_gets_404(app, client, make_staff, staff_login, three,  # noqa: F811
                                     as_job):
    _complete_all(client, three, staff_login)
    job_id = start(client)
    other = staff_client(app, make_staff, "boss2", "supervisor")
    assert other.get(f"/admin/declaration_all/export-job/{job_id}/").status_code == 404
    assert other.get(f"/admin/declaration_all/export-job/{job_id}/download").status_code == 404
    reviewer = staff_client(app, make_staff, "rev", "initial_reviewer")
    assert reviewer.get(f"/admin/declaration_all/export-job/{job_id}/download").status_code \
        in (403, 404)
    assert other.get("/admin/declaration_all/export-job/999999/").status_code == 404


def test_queued_job_page_reloads_with_progress(app, client, staff_login, three, as_job,  # noqa: F811
                                               monkeypatch):
    _complete_all(client, three, staff_login)
    monkeypatch.setattr(exports, "run_pending", lambda: None)  # no worker picks it up
    job_id = start(client)
    page = client.get(f"/admin/declaration_all/export-job/{job_id}/").get_data(as_text=True)
    assert 'data-status="queued"' in page and 'http-equiv="refresh"' in page
    assert 'data-written="0" data-total="3"' in page
    assert client.get(f"/admin/declaration_all/export-job/{job_id}/download").status_code == 404
    with app.app_context():  # a worker runs it in chunks of one: progress at every row
        monkeypatch.setattr(exports, "CHUNK", 1)
        seen = []
        real = exports.utcnow

        def spy():
            job = db.session.get(ExportJob, job_id)
            db.session.refresh(job)
            seen.append(job.written)
            return real()

        monkeypatch.setattr(exports, "utcnow", spy)
        exports.run(job_id)
    assert seen[1:4] == [0, 1, 2] and job_of(app, job_id).status == "done"


def test_a_killed_worker_fails_the_job_which_restarts(app, client, staff_login, three,  # noqa: F811
                                                      as_job, monkeypatch):
    _complete_all(client, three, staff_login)
    monkeypatch.setattr(exports, "run_pending", lambda: None)
    job_id = start(client)
    with app.test_request_context():  # a worker claimed it, wrote part of it and died
        job = db.session.get(ExportJob, job_id)
        job.status, job.written = "running", 1
        job.heartbeat_at = utcnow() - timedelta(seconds=exports.DEFAULT_STALE_SECONDS + 1)
        db.session.commit()
        (exports.folder() / f"{job_id}-dead.csv.part").write_text("序号\r\n1,")
    page = client.get(f"/admin/declaration_all/export-job/{job_id}/").get_data(as_text=True)
    assert 'data-status="failed"' in page and "export-restart" in page
    assert files(app) == []  # no partial file kept, none offered
    assert client.get(f"/admin/declaration_all/export-job/{job_id}/download").status_code == 404
    monkeypatch.undo()
    monkeypatch.setitem(app.config, "EXPORT_STREAM_ROWS", 0)
    monkeypatch.setitem(app.config, "EXPORT_STREAM_ROWS_CSV", 0)
    response = client.post(f"/admin/declaration_all/export-job/{job_id}/restart",
                           data={"csrf_token": csrf_in(page)})
    assert response.status_code == 302
    job = job_of(app, job_id)
    assert (job.status, job.written, job.error) == ("done", 3, None)
    assert client.get(f"/admin/declaration_all/export-job/{job_id}/download").status_code == 200
    again = client.post(f"/admin/declaration_all/export-job/{job_id}/restart",
                        data={"csrf_token": csrf_in(page)})
    assert again.status_code == 409  # only a failed job restarts


def test_a_job_running_recently_is_not_failed(app, client, staff_login, three, as_job,  # noqa: F811
                                              monkeypatch):
    _complete_all(client, three, staff_login)
    monkeypatch.setattr(exports, "run_pending", lambda: None)
    job_id = start(client)
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        job.status, job.heartbeat_at = "running", utcnow()
        db.session.commit()
        assert exports.sweep_expired() == 0
    assert job_of(app, job_id).status == "running"


def test_a_failing_write_keeps_no_file(app, client, staff_login, three, as_job,  # noqa: F811
                                       monkeypatch):
    _complete_all(client, three, staff_login)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exports.export, "csv_chunks", broken)
    job_id = start(client)
    job = job_of(app, job_id)
    assert (job.status, job.error) == ("failed", "disk full") and files(app) == []


def test_expired_files_are_swept(app, client, staff_login, three, as_job):  # noqa: F811
    _complete_all(client, three, staff_login)
    job_id = start(client)
    with app.app_context():
        assert exports.sweep_expired() == 0 and len(files(app)) == 1
        job = db.session.get(ExportJob, job_id)
        job.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert exports.sweep_expired() == 1
    assert files(app) == [] and job_of(app, job_id).status == "expired"
    page = client.get(f"/admin/declaration_all/export-job/{job_id}/").get_data(as_text=True)
    assert 'data-status="expired"' in page
    assert client.get(f"/admin/declaration_all/export-job/{job_id}/download").status_code == 404


def test_keep_hours_come_from_the_config(app, client, staff_login, three, as_job,  # noqa: F811
                                         monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_KEEP_HOURS", 2)
    _complete_all(client, three, staff_login)
    job = job_of(app, start(client))
    assert timedelta(hours=2) - (job.expires_at - job.finished_at) < timedelta(seconds=1)


# --- the attachments of the exported rows, in one ZIP ----------------------------------------

LABELS = [("北京市社会保险个人权益记录", ".pdf"), ("诚信声明", ".png"),
          ("相应数量的发明专利证书1", ".pdf"), ("相应数量的发明专利证书2", ".pdf")]


def zip_of(client, job_id: int):
    import zipfile

    response = client.get(f"/admin/declaration_all/export-job/{job_id}/download")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    response.close()
    return response, archive


def expected_names(people) -> list[str]:
    return [f"{UNIT}-{person}-{label}{ext}" for person in people for label, ext in LABELS]


def test_zip_bundles_the_attachments_named_unit_person_document(app, client, staff_login,
                                                                three):  # noqa: F811
    """Always a job (even three rows): the progress page, then a ZIP of every file of the
    exported rows, in export order, named as the guide names them, with the stored bytes;
    the start and the download are audited."""
    from talentadmin.core import storage
    from talentadmin.declarations.models import DeclarationFile

    _complete_all(client, three, staff_login)
    job_id = start(client, "zip")
    job = job_of(app, job_id)
    assert (job.kind, job.status, job.written, job.total) == ("zip", "done", 3, 3)
    assert job.filename == "人才引进需求申报材料-3.zip" and files(app) == [job.stored]
    page = client.get(f"/admin/declaration_all/export-job/{job_id}/").get_data(as_text=True)
    assert 'data-status="done"' in page and 'id="export-hint"' in page
    response, archive = zip_of(client, job_id)
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    names = archive.namelist()
    assert names == expected_names(["申报人0", "申报人1", "申报人2"])
    assert all(info.flag_bits & 0x800 for info in archive.infolist())  # UTF-8 names
    with app.app_context():
        item = db.session.execute(select(DeclarationFile).where(
            DeclarationFile.declaration_id == three[1], DeclarationFile.label == "诚信声明")
        ).scalar_one()
        assert archive.read(names[5]) == storage.read_bytes(item.attachment)
        started, downloaded = (db.session.execute(select(AuditEvent).where(
            AuditEvent.action == action)).scalar_one()
            for action in ("declaration.export", "declaration.export.download"))
        assert started.detail["format"] == "zip" and started.detail["rows"] == 3
        assert downloaded.detail == {"job": job_id, "format": "zip", "rows": 3}


def test_zip_follows_the_grid_filter(app, client, staff_login, three):  # noqa: F811
    """Rows the grid's search or filters leave out are not in the ZIP (nor in its count)."""
    _complete_all(client, three, staff_login)
    response = client.get("/admin/declaration_all/municipal/zip/",
                          query_string={"search": "申报人2"})
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert job_of(app, job_id).total == 1
    _, archive = zip_of(client, job_id)
    assert archive.namelist() == expected_names(["申报人2"])
    # a filter that selects nothing: an empty archive, not an error
    response = client.get("/admin/declaration_all/municipal/zip/",
                          query_string={"search": "没有这个人"})
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    _, archive = zip_of(client, job_id)
    assert archive.namelist() == []


def test_zip_names_collide_and_carry_slashes_safely(app, client, permitted, open_round,
                                                    declare, staff_login):
    """Two people of one unit with the same name (a slash in it) do not overwrite each
    other's files: the second gets " (2)"; no entry makes a folder or climbs out of one."""
    user_id = permitted("13800138000")
    first = declare(user_id, name="张/三", id_number=IDS[1])
    second = declare(user_id, name="张/三", id_number=IDS[2])
    staff_login("boss", "initial_reviewer", "second_reviewer", "supervisor")
    from ..declarations.test_review import bulk

    bulk(client, "declaration_initial", "pass_initial", [first, second])
    bulk(client, "declaration_second", "pass_second", [first, second])
    _, archive = zip_of(client, start(client, "zip"))
    names = archive.namelist()
    stem = f"{UNIT}-张_三-"
    assert names == [*(f"{stem}{label}{ext}" for label, ext in LABELS),
                     *(f"{stem}{label} (2){ext}" for label, ext in LABELS)]
    assert not any("/" in name or "\\" in name or name.startswith(".") for name in names)


def test_another_supervisor_cannot_download_a_zip(app, client, make_staff, staff_login,
                                                  three):  # noqa: F811
    _complete_all(client, three, staff_login)
    job_id = start(client, "zip")
    other = staff_client(app, make_staff, "boss2", "supervisor")
    assert other.get(f"/admin/declaration_all/export-job/{job_id}/").status_code == 404
    assert other.get(f"/admin/declaration_all/export-job/{job_id}/download").status_code == 404
    reviewer = staff_client(app, make_staff, "rev", "initial_reviewer", "second_reviewer")
    assert reviewer.get("/admin/declaration_all/municipal/zip/").status_code in (302, 403)
    assert reviewer.get(f"/admin/declaration_all/export-job/{job_id}/download").status_code \
        in (403, 404)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "declaration.export.download")) == 0


def test_a_file_lost_from_the_storage_is_listed_not_fatal(app, client, staff_login,
                                                          three):  # noqa: F811
    """The integrity statements' image is gone from the upload folder (the PDFs are one
    stored file, kept): the ZIP holds the rest and lists what is missing."""
    from talentadmin.core import storage
    from talentadmin.declarations.models import DeclarationFile

    _complete_all(client, three, staff_login)
    with app.app_context():
        item = db.session.execute(select(DeclarationFile).where(
            DeclarationFile.declaration_id == three[0], DeclarationFile.label == "诚信声明")
        ).scalar_one()
        path = storage.path_of(item.attachment)
        kept = path.read_bytes()
    path.unlink()
    try:
        job_id = start(client, "zip")
        assert job_of(app, job_id).status == "done"
        _, archive = zip_of(client, job_id)
    finally:
        path.write_bytes(kept)
    lost = [name for name in expected_names(["申报人0", "申报人1", "申报人2"])
            if name.endswith(".png")]
    assert archive.namelist() == [
        *(name for name in expected_names(["申报人0", "申报人1", "申报人2"])
          if name not in lost), exports.MISSING_LIST]
    assert archive.read(exports.MISSING_LIST).decode("utf-8").split() == lost


def test_a_zip_job_restarts_after_its_worker_died(app, client, staff_login, three,  # noqa: F811
                                                  monkeypatch):
    _complete_all(client, three, staff_login)
    monkeypatch.setattr(exports, "run_pending", lambda: None)
    job_id = start(client, "zip")
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        job.status, job.written = "running", 1
        job.heartbeat_at = utcnow() - timedelta(seconds=exports.DEFAULT_STALE_SECONDS + 1)
        db.session.commit()
    page = client.get(f"/admin/declaration_all/export-job/{job_id}/").get_data(as_text=True)
    assert 'data-status="failed"' in page
    monkeypatch.undo()
    client.post(f"/admin/declaration_all/export-job/{job_id}/restart",
                data={"csrf_token": csrf_in(page)})
    assert job_of(app, job_id).status == "done"
    _, archive = zip_of(client, job_id)
    assert len(archive.namelist()) == 12
