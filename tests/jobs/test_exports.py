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

from ..conftest import csrf_in, staff_client
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
    assert [row[4] for row in table[1:]] == IDS
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
