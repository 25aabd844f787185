"""Backup → wipe → restore drill (``flask backup``, ``flask backup --verify``,
``flask restore``), on SQLite and on PostgreSQL (``TALENTADMIN_TEST_DATABASE_URL``).

A populated office (three declarations with their files, a staff comment, a decision) is
backed up; the backup is restored into an empty database and an empty folder of a second
app; every table's row count and every stored file's sha256 are equal, and the restored
app serves the same pages (the full ID number decrypted with the restored data key, the
same attachment bytes). A backup with one changed byte — in a file, in the database copy,
in the manifest — or with a file missing or added is refused by ``--verify`` and by
``restore``, which then leaves the target untouched. Restoring over anything is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url

from talentadmin import create_app
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db

from ..conftest import PASSWORD, TEST_DATABASE_URL, TEST_PASSWORD_HASH, csrf_in, staff_client
from ..declarations.test_review import IDS, bulk, three  # noqa: F401 - the fixture

pytestmark = pytest.mark.real_commits  # the backup reads the database from other connections


# --- helpers ------------------------------------------------------------------------------


def table_counts(app) -> dict[str, int]:
    with app.app_context():
        names = sorted(inspect(db.engine).get_table_names())
        return {name: db.session.execute(
            select(func.count()).select_from(text(f'"{name}"'))).scalar_one()
            for name in names}


def stored_files(app) -> dict[str, str]:
    """Every stored file (previews included, unfinished writes left out) and its sha256."""
    folder = Path(app.config["UPLOAD_FOLDER"])
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")}


@pytest.fixture
def target_url(tmp_path):
    """An empty database of the suite's kind: a new SQLite file, or a new PostgreSQL
    database on the suite's server (dropped afterwards)."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    import psycopg

    url = make_url(TEST_DATABASE_URL)
    name = f"{url.database}_r{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def target(tmp_path, target_url):
    """A second app on an empty database and an empty instance folder (no data key)."""
    instance = tmp_path / "restored-instance"
    app = create_app({
        "TESTING": True, "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH,
        "INSTANCE_PATH": str(instance), "DATABASE_URL": target_url,
        "SECRET_KEY": "test-secret-key", "SMS_BACKEND": "console", "REDIS_URL": None,
        "SERVER_NAME": "localhost",
    })
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def wipe(app) -> None:
    """Every table gone: the SQLite file deleted, or PostgreSQL's schema dropped."""
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "sqlite":
            db.engine.dispose()
            Path(db.engine.url.database).unlink()
        else:
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        assert inspect(db.engine).get_table_names() == []


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


@pytest.fixture
def office(app, three, make_staff):  # noqa: F811 - the fixture imported above
    """A populated office: three declarations with files, a decision, a comment, and the
    previews staff looked at."""
    reviewer = staff_client(app, make_staff, "r1", "initial_reviewer")
    make_staff("chief", "supervisor", "initial_reviewer")
    assert bulk(reviewer, "declaration_initial", "pass_initial", three[:1]).status_code == 302
    page = reviewer.get(f"/admin/declaration_initial/details/?id={three[1]}")
    reviewer.post("/admin/declaration_initial/comment/", data={
        "csrf_token": csrf_in(page.get_data(as_text=True)), "id": three[1],
        "text": "电话核实过学历"})
    with app.app_context():
        file_ids = [f.id for f in db.session.get(Declaration, three[1]).files]
    for file_id in file_ids[:2]:  # their previews are rendered and kept beside them
        preview = reviewer.get(f"/admin/declaration_initial/file/?id={three[1]}"
                               f"&file_id={file_id}&preview=1")
        assert preview.status_code == 200
    return three


NOISE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+|(nonce=")[^"]+|'
                   r'(csrf_token" content=")[^"]+')


def page_as_staff(app, url: str) -> str:
    """``url`` as staff account chief sees it, less per-request tokens."""
    browser = app.test_client()
    html = browser.get("/admin/login").get_data(as_text=True)
    assert browser.post("/admin/login", data={"csrf_token": csrf_in(html), "username": "chief",
                                               "password": PASSWORD}).status_code == 302
    response = browser.get(url)
    assert response.status_code == 200, url
    return NOISE.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)),
                     response.get_data(as_text=True))


def file_as_staff(app, declaration_id: int, file_id: int) -> bytes:
    browser = app.test_client()
    html = browser.get("/admin/login").get_data(as_text=True)
    browser.post("/admin/login", data={"csrf_token": csrf_in(html), "username": "chief",
                                       "password": PASSWORD})
    response = browser.get(f"/admin/declaration_all/file/?id={declaration_id}"
                           f"&file_id={file_id}")
    assert response.status_code == 200
    return response.data


# --- the drill ----------------------------------------------------------------------------


def test_backup_wipe_restore_drill(app, target, office, tmp_path):
    out = tmp_path / "backup"
    result = run(app, "backup", str(out))
    assert result.exit_code == 0, result.output
    assert "backed up to" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    before_counts, before_files = table_counts(app), stored_files(app)
    assert manifest["tables"] == before_counts
    assert manifest["tables"]["declaration"] == 3 and manifest["tables"]["staff_comment"] == 1
    assert {f"uploads/{name}": sha for name, sha in before_files.items()} == {
        name: meta["sha256"] for name, meta in manifest["files"].items()
        if name.startswith("uploads/")}
    assert manifest["data_key"] and (out / "data_key").stat().st_mode & 0o077 == 0
    assert out.stat().st_mode & 0o077 == 0  # the folder is its owner's only

    result = run(app, "backup", "--verify", str(out))
    assert result.exit_code == 0 and "verified" in result.output, result.output

    result = run(target, "restore", str(out))
    assert result.exit_code == 0, result.output
    assert table_counts(target) == before_counts
    assert stored_files(target) == before_files
    key = Path(target.instance_path) / "data_key"
    assert key.read_text() == (Path(app.instance_path) / "data_key").read_text().strip()
    assert key.stat().st_mode & 0o077 == 0

    # The restored app serves the same pages: grids, details with the full ID number
    # (decrypted with the restored key), the timeline, the comment, the same file bytes.
    first, second = office[0], office[1]
    for url in ("/admin/declaration_all/", f"/admin/declaration_all/details/?id={first}",
                f"/admin/declaration_initial/details/?id={second}"):
        assert page_as_staff(target, url) == page_as_staff(app, url), url
    details = page_as_staff(target, f"/admin/declaration_initial/details/?id={second}")
    assert IDS[1] in details and "电话核实过学历" in details
    with target.app_context():
        declaration = db.session.get(Declaration, second)
        assert declaration.id_number == IDS[1]
        file_id = declaration.files[0].id
    assert file_as_staff(target, second, file_id) == file_as_staff(app, second, file_id)

    # Over anything: refused, and nothing changes.
    served = table_counts(target)  # the pages above logged in and were audited
    result = run(target, "restore", str(out))
    assert result.exit_code != 0
    assert "the database is not empty" in result.output and "Nothing was restored" in result.output
    assert table_counts(target) == served

    # Wipe (the database emptied, the files removed) and restore again.
    wipe(target)
    folder = Path(target.config["UPLOAD_FOLDER"])
    files_kept = dict(stored_files(target))
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    result = run(target, "restore", str(out))
    assert result.exit_code == 0, result.output
    assert table_counts(target) == before_counts and stored_files(target) == files_kept


# --- what is refused ----------------------------------------------------------------------


def flip_byte(path: Path, offset: int = -1) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def recount(out: Path, table: str, delta: int) -> None:
    """A manifest whose count of ``table`` is off by ``delta``, with its sum made to match
    (what a hand-edited manifest looks like)."""
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["tables"][table] += delta
    body = json.dumps(manifest).encode()
    (out / "manifest.json").write_bytes(body)
    (out / "manifest.sha256").write_text(hashlib.sha256(body).hexdigest())


def first_upload(out: Path) -> Path:
    return next(p for p in sorted((out / "uploads").rglob("*")) if p.is_file())


DAMAGE = {
    "a stored file, one byte": (lambda out: flip_byte(first_upload(out)),
                                "does not match its sha256"),
    "the database copy, one byte": (
        lambda out: flip_byte(next(out.glob("database.*")), 200), "does not match its sha256"),
    "the data key, one byte": (lambda out: flip_byte(out / "data_key", 0),
                               "data_key does not match its sha256"),
    "the manifest, one byte": (lambda out: flip_byte(out / "manifest.json", 20),
                               "the manifest was changed or damaged"),
    "the manifest's count of declarations, its sum redone": (
        lambda out: recount(out, "declaration", 1),
        "declaration: 3 rows, the manifest says 4"),
    "a file missing": (lambda out: first_upload(out).unlink(),
                       "files listed in the manifest are missing"),
    "a file added": (lambda out: (out / "uploads" / "extra.pdf").write_bytes(b"%PDF-1.4"),
                     "files not listed in the manifest: uploads/extra.pdf"),
    "the manifest's sum missing": (lambda out: (out / "manifest.sha256").unlink(),
                                   "is not a backup"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_backup_is_refused_and_nothing_restored(app, target, office, tmp_path,
                                                          damage):
    out = tmp_path / "backup"
    assert run(app, "backup", str(out)).exit_code == 0
    spoil, message = DAMAGE[damage]
    spoil(out)
    result = run(app, "backup", "--verify", str(out))
    assert result.exit_code != 0 and message in result.output, result.output
    result = run(target, "restore", str(out))
    assert result.exit_code != 0, result.output
    assert message in result.output and "Nothing was restored" in result.output
    with target.app_context():
        assert inspect(db.engine).get_table_names() == []
    assert not Path(target.config["UPLOAD_FOLDER"]).exists() or stored_files(target) == {}
    assert not (Path(target.instance_path) / "data_key").exists()


def test_restore_needs_an_empty_folder_and_the_same_data_key(app, target, office, tmp_path):
    out = tmp_path / "backup"
    assert run(app, "backup", str(out)).exit_code == 0
    folder = Path(target.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True)
    (folder / "left-over.png").write_bytes(b"x")
    result = run(target, "restore", str(out))
    assert result.exit_code != 0 and "is not empty: restore into an empty folder only" in \
        result.output
    (folder / "left-over.png").unlink()

    key = Path(target.instance_path) / "data_key"
    key.write_text("A" * 43 + "=")  # another key: the restored ID numbers would be unreadable
    result = run(target, "restore", str(out))
    assert result.exit_code != 0 and "another data key" in result.output
    with target.app_context():
        assert inspect(db.engine).get_table_names() == []


def test_a_backup_cut_short_by_a_full_disk_is_said_and_refused(app, office, tmp_path,
                                                                monkeypatch):
    import errno
    import shutil

    real_copy = shutil.copy2
    copied = []

    def copy_until_full(source, target, *args, **kwargs):
        if copied:
            raise OSError(errno.ENOSPC, "No space left on device")
        copied.append(source)
        return real_copy(source, target, *args, **kwargs)

    monkeypatch.setattr(shutil, "copy2", copy_until_full)
    out = tmp_path / "backup"
    result = run(app, "backup", str(out))
    assert result.exit_code != 0
    assert "No space left on device" in result.output and "is incomplete" in result.output
    monkeypatch.undo()
    result = run(app, "backup", "--verify", str(out))
    assert result.exit_code != 0 and "is not a backup" in result.output


def test_backup_needs_a_new_or_empty_folder(app, tmp_path):
    out = tmp_path / "backup"
    out.mkdir()
    (out / "old.txt").write_text("an older backup")
    result = run(app, "backup", str(out))
    assert result.exit_code != 0 and "is not an empty folder" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]


@pytest.mark.postgres
@pytest.mark.skipif(not TEST_DATABASE_URL, reason="pg_dump's snapshot is PostgreSQL's")
def test_a_write_committed_while_pg_dump_starts_is_not_half_in_the_backup(
        app, target, office, tmp_path, monkeypatch):
    """The counts and the dump are of one snapshot: an audit event committed by another
    connection after the counting, before pg_dump reads, is in neither."""
    import subprocess

    from talentadmin.core import audit, backup

    real_run = subprocess.run

    def run_after_a_write(*args, **kwargs):
        with app.test_request_context():  # a session of its own, committed at once
            audit.record("test.meanwhile", actor_label="another request")
            db.session.commit()
        return real_run(*args, **kwargs)

    monkeypatch.setattr(backup.subprocess, "run", run_after_a_write)
    before = table_counts(app)
    out = tmp_path / "backup"
    assert run(app, "backup", str(out)).exit_code == 0
    monkeypatch.undo()
    assert table_counts(app)["audit_event"] == before["audit_event"] + 1  # it was committed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tables"]["audit_event"] == before["audit_event"]
    assert run(app, "backup", "--verify", str(out)).exit_code == 0  # the dump agrees
    assert run(target, "restore", str(out)).exit_code == 0
    assert table_counts(target)["audit_event"] == before["audit_event"]
