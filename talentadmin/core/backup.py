"""Backup, verification and restore of an office's whole state.

A backup is a folder:

``database.sqlite3`` or ``database.dump``
    the database: SQLite's online backup API (a consistent copy of a live file), or
    ``pg_dump -Fc`` (PostgreSQL's custom format) taken in an exported snapshot;
``uploads/``
    the attachments as stored (``<sha[:2]>/<sha>`` and their previews), unfinished
    uploads (``.upload-*``) left out;
``data_key``
    the key the ID numbers are encrypted with (without it they cannot be read);
``manifest.json``
    the row count of every table (counted in the very state the copy holds), the Alembic
    revision, and the size and sha256 of every other file of the backup;
``manifest.sha256``
    the sha256 of ``manifest.json``, so a changed byte of the manifest is caught too.

:func:`verify` checks a backup without touching anything; :func:`restore` verifies first,
then restores into an empty database and an empty upload folder only, and counts the rows
again afterwards. Every refusal is a :class:`BackupError` naming what is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import func, inspect, select, text

from ..extensions import db
from .timeutil import utcnow

FORMAT = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
UPLOADS = "uploads"
DATA_KEY = "data_key"
CHUNK = 1024 * 1024
TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]*")
COPY = re.compile(rb'COPY (?:"?public"?\.)?"?(?P<table>[a-z_][a-z0-9_]*)"? .*FROM stdin;\n')


class BackupError(Exception):
    """Why a backup, a verification or a restore was refused."""


@dataclass
class Report:
    """What a backup or a restore did."""

    folder: Path
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0

    def lines(self) -> Iterator[str]:
        rows = sum(self.tables.values())
        yield f"{self.folder}: {len(self.tables)} tables, {rows} rows, {self.files} files, " \
              f"{self.bytes} bytes"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _dialect() -> str:
    return db.engine.dialect.name


def _libpq_url(url) -> str:
    """A URL ``pg_dump`` and ``pg_restore`` understand (no ``+psycopg``), password included."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tables() -> list[str]:
    """The application's tables and Alembic's."""
    return sorted([table.name for table in db.metadata.sorted_tables] + ["alembic_version"])


def _count(connection, names: list[str]) -> dict[str, int]:
    present = set(inspect(connection).get_table_names())
    missing = [name for name in names if name not in present]
    if missing:
        raise BackupError(f"the database has no table {', '.join(missing)}: "
                          f"is it migrated (flask db upgrade)?")
    return {name: connection.execute(
        select(func.count()).select_from(text(f'"{name}"'))).scalar_one() for name in names}


def _count_sqlite(connection: sqlite3.Connection, names: list[str]) -> dict[str, int]:
    """Row counts read from a SQLite file with the standard library (a backup's copy)."""
    bad = [name for name in names if not TABLE_NAME.fullmatch(name)]
    if bad:
        raise BackupError(f"not a table name: {bad[0]!r}")
    return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608
            for name in names}


def _tool(name: str) -> str:
    """The full path of a PostgreSQL client program."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (the PostgreSQL client programs, "
                          f"version 15 or later)")
    return path


def _revision(connection) -> str | None:
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _data_key() -> str | None:
    """The data key as the instance holds it (base64 text), or ``None`` when none exists
    yet (nothing was encrypted)."""
    configured = current_app.config.get("DATA_KEY")
    if configured:
        return str(configured).strip()
    path = Path(current_app.instance_path) / "data_key"
    return path.read_text().strip() if path.exists() else None


def _upload_files(folder: Path) -> Iterator[Path]:
    """The stored files under ``folder``, relative to it; unfinished uploads and previews
    being written (``.upload-*``, ``.preview-*``) are left out."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            yield path.relative_to(folder)


# --- backup --------------------------------------------------------------------------------


def backup(out_dir: str | os.PathLike) -> Report:
    """Write a backup of the database, the attachments and the data key to ``out_dir``
    (which must not exist, or be empty; it is made readable by its owner only). The
    manifest is written last: a backup cut short (a full disk) has none and is refused."""
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"{out} exists and is not an empty folder: choose a new one")
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o700)  # personal data and the key that decrypts it: the owner only
    report = Report(out)
    names = _tables()
    if _dialect() == "sqlite":
        database = _backup_sqlite(out / SQLITE_FILE)
        with sqlite3.connect(f"file:{out / SQLITE_FILE}?mode=ro", uri=True) as copy:
            report.tables = _count_sqlite(copy, names)
            revision = copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    else:
        database = PG_FILE
        report.tables, revision = _backup_postgresql(out / PG_FILE, names)
    key = _data_key()
    if key is not None:
        key_path = out / DATA_KEY
        key_path.write_text(key)
        key_path.chmod(0o600)
    source = Path(current_app.config["UPLOAD_FOLDER"])
    for relative in _upload_files(source):
        target = out / UPLOADS / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / relative, target)
    files = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        relative = path.relative_to(out).as_posix()
        files[relative] = {"size": path.stat().st_size, "sha256": sha256_of(path)}
    report.files = len(files)
    report.bytes = sum(f["size"] for f in files.values())
    manifest = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(timespec="seconds") + "Z",
        "database": {"dialect": _dialect(), "file": database, "revision": revision},
        "data_key": key is not None,
        "tables": report.tables,
        "files": files,
    }
    body = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode()
    (out / MANIFEST).write_bytes(body)
    (out / MANIFEST_SUM).write_text(hashlib.sha256(body).hexdigest() + "\n")
    return report


def _backup_sqlite(target: Path) -> str:
    """SQLite's online backup API: a consistent copy while the app keeps writing."""
    source_path = db.engine.url.database
    source = sqlite3.connect(source_path)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            # A copy in WAL mode would grow -wal and -shm files beside it when read.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        source.close()
    return SQLITE_FILE


def _backup_postgresql(target: Path, names: list[str]) -> tuple[dict[str, int], str]:
    """``pg_dump -Fc`` in a snapshot exported by a transaction that counts the rows: the
    counts are those of the very state the dump holds."""
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") \
            as connection:
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        counts = _count(connection, names)
        revision = _revision(connection)
        result = subprocess.run(  # noqa: S603 - fixed program, arguments from the settings
            [_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
             "-f", str(target), "-d", _libpq_url(db.engine.url)],
            capture_output=True, text=True, check=False)
        connection.rollback()
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return counts, revision


# --- verify --------------------------------------------------------------------------------


def read_manifest(folder: str | os.PathLike) -> dict:
    """The manifest of the backup in ``folder``, once every file was checked against it."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file() or not (folder / MANIFEST_SUM).is_file():
        raise BackupError(f"{folder} is not a backup: {MANIFEST} or {MANIFEST_SUM} is missing")
    body = (folder / MANIFEST).read_bytes()
    if hashlib.sha256(body).hexdigest() != (folder / MANIFEST_SUM).read_text().strip():
        raise BackupError(f"{MANIFEST} does not match {MANIFEST_SUM}: the manifest was "
                          f"changed or damaged")
    try:
        manifest = json.loads(body)
        files, tables = manifest["files"], manifest["tables"]
        database = manifest["database"]
    except (ValueError, KeyError, TypeError):
        raise BackupError(f"{MANIFEST} cannot be read") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r} is not {FORMAT}")
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    present -= {MANIFEST, MANIFEST_SUM}
    missing = sorted(set(files) - present)
    extra = sorted(present - set(files))
    if missing:
        raise BackupError(f"files listed in the manifest are missing: {', '.join(missing[:5])}")
    if extra:
        raise BackupError(f"files not listed in the manifest: {', '.join(extra[:5])}")
    for name, expected in files.items():
        path = folder / name
        if path.stat().st_size != expected["size"] or sha256_of(path) != expected["sha256"]:
            raise BackupError(f"{name} does not match its sha256 in the manifest: the file "
                              f"was changed or damaged")
    if database.get("file") not in files:
        raise BackupError("the manifest names no database file")
    if database["file"] == SQLITE_FILE:
        with sqlite3.connect(f"file:{folder / SQLITE_FILE}?mode=ro", uri=True) as copy:
            try:
                counted = _count_sqlite(copy, list(tables))
            except sqlite3.DatabaseError as error:
                raise BackupError(f"{SQLITE_FILE} cannot be read: {error}") from None
    else:
        counted = _count_pg_dump(folder / PG_FILE)
    _same_counts(tables, counted, "the database file")
    return manifest


def _count_pg_dump(path: Path) -> dict[str, int]:
    """The rows of each table in a custom-format dump, read without a database: its data
    as ``COPY … FROM stdin`` blocks (one line a row; line breaks in values are escaped)."""
    counts: dict[str, int] = {}
    process = subprocess.Popen(  # noqa: S603 - fixed program, a path we were given
        [_tool("pg_restore"), "--data-only", "-f", "-", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    table = None
    for line in process.stdout:
        if table is None:
            match = COPY.match(line)
            if match:
                table = match["table"].decode()
                counts[table] = 0
        elif line == b"\\.\n":
            table = None
        else:
            counts[table] += 1
    errors = process.stderr.read().decode(errors="replace").strip()
    if process.wait() != 0:
        raise BackupError(f"{PG_FILE} cannot be read: {errors}")
    return counts


def verify(folder: str | os.PathLike) -> Report:
    """Check a backup without restoring it: every file against its sha256, nothing missing
    or added, the manifest against its own sum, and the rows of every table in the
    database copy against the manifest's counts."""
    manifest = read_manifest(folder)
    return Report(Path(folder), tables=dict(manifest["tables"]), files=len(manifest["files"]),
                  bytes=sum(f["size"] for f in manifest["files"].values()))


def _same_counts(expected: dict[str, int], counted: dict[str, int], what: str) -> None:
    wrong = [f"{name}: {counted.get(name)} rows, the manifest says {rows}"
             for name, rows in sorted(expected.items()) if counted.get(name) != rows]
    if wrong:
        raise BackupError(f"{what} does not hold what the manifest lists ({'; '.join(wrong)})")


# --- restore -------------------------------------------------------------------------------


def restore(in_dir: str | os.PathLike) -> Report:
    """Restore the backup in ``in_dir`` into this app's database and upload folder, which
    must both be empty, and its data key (refused when the app already has another)."""
    folder = Path(in_dir)
    try:
        manifest, key, current = _check_restorable(folder)
    except BackupError as error:
        raise BackupError(f"{error}. Nothing was restored.") from None
    dialect = manifest["database"]["dialect"]
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    key_file = Path(current_app.instance_path) / "data_key"
    if dialect == "sqlite":
        _restore_sqlite(folder / SQLITE_FILE)
    else:
        _restore_postgresql(folder / PG_FILE)
    files = {name: meta for name, meta in manifest["files"].items()
             if name.startswith(UPLOADS + "/")}
    for name, meta in files.items():
        target = uploads / name[len(UPLOADS) + 1:]
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        os.close(fd)
        shutil.copyfile(folder / name, temp)
        if sha256_of(Path(temp)) != meta["sha256"]:
            os.unlink(temp)
            raise BackupError(f"{name} changed while it was restored")
        os.replace(temp, target)
    if key is not None and current is None:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
    with db.engine.connect() as connection:
        counted = _count(connection, list(manifest["tables"]))
    _same_counts(manifest["tables"], counted, "the restored database")
    return Report(folder, tables=counted, files=len(files),
                  bytes=sum(meta["size"] for meta in files.values()))


def _check_restorable(folder: Path) -> tuple[dict, str | None, str | None]:
    """The manifest, the backup's data key and the app's own, once the backup is verified
    and the database and the upload folder are found empty."""
    manifest = read_manifest(folder)
    dialect = manifest["database"]["dialect"]
    if dialect != _dialect():
        raise BackupError(f"the backup is of a {dialect} database; this app uses "
                          f"{_dialect()}")
    existing = inspect(db.engine).get_table_names()
    db.session.remove()
    if existing:
        raise BackupError(f"the database is not empty ({len(existing)} tables, e.g. "
                          f"{sorted(existing)[0]}): restore into an empty database only")
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    if uploads.exists() and any(uploads.iterdir()):
        raise BackupError(f"the upload folder {uploads} is not empty: restore into an empty "
                          f"folder only")
    key = (folder / DATA_KEY).read_text().strip() if manifest["data_key"] else None
    current = _data_key()
    if key is not None and current is not None and current != key:
        raise BackupError("this app already has another data key (TALENTADMIN_DATA_KEY or "
                          "instance/data_key): the restored ID numbers could not be read "
                          "with it")
    if key is not None and len(base64.b64decode(key)) != 32:
        raise BackupError("the backup's data key is not 32 bytes")
    return manifest, key, current


def _restore_sqlite(source: Path) -> None:
    db.engine.dispose()
    target = sqlite3.connect(db.engine.url.database)
    try:
        copy = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            copy.backup(target)
        finally:
            copy.close()
    finally:
        target.close()


def _restore_postgresql(source: Path) -> None:
    db.engine.dispose()
    result = subprocess.run(  # noqa: S603 - fixed program, arguments from the settings
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", "-d", _libpq_url(db.engine.url), str(source)],
        capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
