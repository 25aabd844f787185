"""``flask`` commands: staff accounts, default and demo data, housekeeping."""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from .accounts import operations as accounts
from .accounts.models import ROLES, EnterpriseUser, StaffUser
from .core.errors import FieldError
from .core.fields import PASSWORD_MAX, PASSWORD_MIN
from .extensions import db
from .pages.operations import seed_defaults, seed_demo_items
from .reference.operations import seed_defaults as seed_reference

DEMO_STAFF = (
    ("admin", "系统管理员", ("admin",)),
    ("reviewer1", "初审工作人员", ("initial_reviewer",)),
    ("reviewer2", "区委人才办复审", ("second_reviewer",)),
    ("supervisor", "业务主管", ("supervisor",)),
)
DEMO_ENTERPRISE_MOBILE = "13800000001"
DEMO_UNIT_MOBILE = "13800000002"
DEMO_UNIT_NAME = "北京示例智能科技有限公司"
DEMO_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
DEMO_GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "涛", "明", "超")
# (state, how many): most wait for the initial review, so the queue can be worked at once
DEMO_STATES = (("待审核", 14), ("待复审", 5), ("已完成", 4), ("未通过", 3))


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def register_cli(app) -> None:
    @app.cli.command("create-staff")
    @click.argument("username")
    @click.option("--role", "roles", multiple=True, required=True,
                  type=click.Choice(sorted(ROLES)), help="Repeat for several roles.")
    @click.option("--full-name", default="")
    def create_staff(username: str, roles: tuple[str, ...], full_name: str) -> None:
        """Create a staff account; the password is read from a prompt or stdin."""
        password = _read_password()
        if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
            raise click.ClickException(
                f"the password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long"
            )
        try:
            accounts.create_staff(username, password, roles, full_name=full_name)
        except FieldError as error:
            raise click.ClickException(error.message) from None
        db.session.commit()
        click.echo(f"created staff account {username} ({', '.join(roles)})")

    @app.cli.command("seed")
    @click.option("--demo", is_flag=True, help="Also add demo accounts (development only).")
    def seed(demo: bool) -> None:
        """Add the default page texts (and demo accounts); safe to run again."""
        added = seed_defaults()
        click.echo(f"default texts: {added} added")
        click.echo(f"reference entries: {seed_reference()} added")
        if demo:
            _seed_demo()
        db.session.commit()

    @app.cli.command("ocr-licence")
    @click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
    @click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
    @click.option("--engine", default=None, help="rapidocr (default) or easyocr.")
    def ocr_licence(files: tuple[str, ...], as_json: bool, engine: str | None) -> None:
        """Read the unit name and credit code from business licence images or PDFs."""
        from .certification.ocr import ocr_files

        for row in ocr_files(files, engine or current_app.config["OCR_ENGINE"]):
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                valid = "valid" if row["credit_code_valid"] else "INVALID"
                click.echo(f"{row['file']}: {row['name'] or '-'} | {row['credit_code'] or '-'} "
                           f"({valid}) [{row['engine']}, {row['seconds']:.2f}s]"
                           + (f" error: {row['error']}" if row.get("error") else ""))

    from .declarations.importer import LegacyFileError, import_file

    @app.cli.command("import-legacy")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Check and report only; nothing is saved.")
    @click.option("--round", "round_name", default=None, metavar="NAME",
                  help="Put every row into this existing round (the 批次 column is ignored). "
                       "Without it, each row's 批次 must name an existing round.")
    def import_legacy(file: str, dry_run: bool, round_name: str | None) -> None:
        """Import declarations exported from the old system (CSV or XLSX).

        Personal data and status are kept; business permissions are not carried over.
        Prints one line per row and a summary; exits non-zero only when the file could
        not be read, its header is wrong or --round names no round (nothing is imported
        then); refused rows are reported, not fatal."""
        try:
            report = import_file(file, dry_run=dry_run, round_name=round_name)
        except LegacyFileError as error:
            raise click.ClickException(f"{error}. Nothing was imported.") from None
        for line in report.lines():
            click.echo(line)

    @app.cli.command("purge-expired")
    def purge_expired() -> None:
        """Delete expired counters, captchas, sessions and SMS codes (the worker's beat does
        it hourly; this is for cron where no worker runs)."""
        from .jobs.periodic import purge_expired as purge

        click.echo(f"removed {purge()} expired rows")

    from .core import backup as backups

    @app.cli.command("backup")
    @click.argument("folder", type=click.Path(file_okay=False))
    @click.option("--verify", is_flag=True,
                  help="Check the backup in FOLDER against its manifest; restore nothing.")
    def backup_command(folder: str, verify: bool) -> None:
        """Back up the database, the attachments and the data key to FOLDER (new or empty),
        with a manifest of row counts and sha256 sums; or, with --verify, check one."""
        try:
            report = backups.verify(folder) if verify else backups.backup(folder)
        except backups.BackupError as error:
            raise click.ClickException(str(error)) from None
        except OSError as error:  # a full or read-only disk: the folder holds no manifest
            raise click.ClickException(f"the backup could not be written ({error}); "
                                       f"{folder} is incomplete: remove it") from None
        for line in report.lines():
            click.echo(("verified " if verify else "backed up to ") + line)

    @app.cli.command("restore")
    @click.argument("folder", type=click.Path(exists=True, file_okay=False))
    def restore_command(folder: str) -> None:
        """Restore the backup in FOLDER into an empty database and an empty upload folder
        (refused otherwise, and refused when the backup does not match its manifest)."""
        try:
            report = backups.restore(folder)
        except backups.BackupError as error:
            raise click.ClickException(str(error)) from None
        for line in report.lines():
            click.echo("restored " + line)

    @app.cli.command("storage-sweep")
    @click.option("--delete", is_flag=True,
                  help="Remove orphan files older than an hour.")
    def storage_sweep(delete: bool) -> None:
        """List files no row points at and rows whose file is missing (exit status 1 when
        a row's file is missing); with --delete, remove orphan files older than an hour."""
        from .core.sweep import sweep

        report = sweep(delete=delete)
        for line in report.lines():
            click.echo(line)
        if report.missing:
            sys.exit(1)


def _demo_password() -> str:
    """One random password for the demo accounts, kept in the instance folder."""
    path = Path(current_app.instance_path) / "demo-password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(9))
        path.chmod(0o600)
    return path.read_text().strip()


def _seed_demo() -> None:
    password = _demo_password()
    for username, full_name, roles in DEMO_STAFF:
        exists = db.session.execute(
            select(StaffUser.id).where(StaffUser.username == username)
        ).first()
        if not exists:
            accounts.create_staff(username, password, roles, full_name=full_name)
    user = db.session.execute(
        select(EnterpriseUser).where(EnterpriseUser.mobile == DEMO_ENTERPRISE_MOBILE)
    ).scalar_one_or_none()
    if user is None:
        user = EnterpriseUser(mobile=DEMO_ENTERPRISE_MOBILE)
        user.set_password(password)
        db.session.add(user)
    round_name = _seed_demo_round()
    seed_demo_items(round_name)  # a notice and a policy document on the portal home
    db.session.commit()
    _seed_demo_unit(password, round_name)
    outbox = current_app.config["SMS_OUTBOX"]
    click.echo("")
    click.echo("Demo logins (development data; the password is in instance/demo-password):")
    for username, _, roles in DEMO_STAFF:
        click.echo(f"  staff  {username:<11} {password}   roles: {', '.join(roles)}   /admin/login")
    click.echo(f"  enterprise  {DEMO_ENTERPRISE_MOBILE}  {password}   (password login at /login)")
    click.echo(f"  enterprise  {DEMO_UNIT_MOBILE}  {password}   (certified; its declarations "
               f"came over from the old system)")
    click.echo(f"  or register any new mobile number at /login; SMS codes go to {outbox}")


def _seed_demo_round() -> None:
    """An open round for this year (in the office's zone, stored in UTC), so the demo can
    be walked at once."""
    from datetime import datetime

    from .core.timeutil import to_local, to_utc, utcnow
    from .declarations.models import Round

    year = to_local(utcnow()).year
    name = f"{year}年引进人才需求申报"
    if db.session.execute(select(Round.id).where(Round.name == name)).first() is None:
        db.session.add(Round(name=name, opens_at=to_utc(datetime(year, 1, 1)),
                             closes_at=to_utc(datetime(year + 1, 1, 1))))
    return name


def _seed_demo_unit(password: str, round_name: str) -> None:
    """A certified unit whose declarations came over from the old system (guide 三.3,
    through the same importer as ``flask import-legacy``), so the review queues, the
    dashboard and the exports have rows to show. Skipped once the unit exists."""
    import io
    from datetime import date, timedelta

    from PIL import Image, ImageDraw
    from werkzeug.datastructures import FileStorage

    from .certification import operations as certification_operations
    from .certification import workflow as certification_workflow
    from .certification.models import Certification
    from .core import storage
    from .core.creditcode import complete_code
    from .core.validators import id_check_char
    from .declarations.importer import import_rows

    if db.session.execute(select(EnterpriseUser.id).where(
            EnterpriseUser.mobile == DEMO_UNIT_MOBILE)).first() is not None:
        return
    user = EnterpriseUser(mobile=DEMO_UNIT_MOBILE)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    picture = Image.new("RGB", (900, 600), "white")
    ImageDraw.Draw(picture).text((40, 40), "DEMO BUSINESS LICENCE (sample data)", fill="black")
    data = io.BytesIO()
    picture.save(data, "PNG")
    data.seek(0)
    licence = storage.save_upload(FileStorage(data, filename="demo-licence.png"),
                                  allowed=("png",), enterprise_user_id=user.id)
    code = complete_code("91110105MA01D3M8")  # passes every check of the code
    # A licence "read" cleanly (the demo picture carries no real text): submitting the
    # values read unchanged approves it the way the portal does.
    certification = Certification(
        enterprise_user_id=user.id, status=certification_workflow.RECOGNISED,
        licence_id=licence.id, ocr_name=DEMO_UNIT_NAME, ocr_credit_code=code,
        ocr_code_valid=True, ocr_engine="demo")
    db.session.add(certification)
    db.session.flush()
    certification_operations.submit(certification, name=DEMO_UNIT_NAME, credit_code=code,
                                    email="hr@example.com")
    db.session.commit()
    rows, n = [], 0
    for state, count in DEMO_STATES:
        for _ in range(count):
            n += 1
            born = date(1975, 1, 1) + timedelta(days=400 * n)
            body = f"110105{born:%Y%m%d}{100 + n:03d}"
            rows.append({
                "row": n + 1, "no": str(n), "unit_name": DEMO_UNIT_NAME, "credit_code": code,
                "name": DEMO_SURNAMES[n % len(DEMO_SURNAMES)]
                        + DEMO_GIVEN[n % len(DEMO_GIVEN)] + ("华" if n % 3 else ""),
                "id_number": body + id_check_char(body), "gender": "", "age": "",
                "political_status": ("中共党员", "群众", "共青团员")[n % 3],
                "title": ("高级工程师", "工程师", "研究员")[n % 3],
                "education": ("研究生（博士）", "研究生（硕士）", "大学本科")[n % 3],
                "degree": ("博士", "硕士", "学士")[n % 3],
                "school": ("清华大学", "北京大学", "北京航空航天大学", "中国科学院大学")[n % 4],
                "major": ("计算机科学与技术", "集成电路设计", "人工智能", "金融学")[n % 4],
                "condition": ("具有博士学位", "拥有发明专利（专利条款）",
                              "企业高级管理人员或核心技术人员")[n % 3],
                "status": state, "round": round_name,
                "submitted_at": f"{date.today() - timedelta(days=n % 10):%Y-%m-%d} 10:{n:02d}",
                "reason": "学历证明材料不清晰，请重新上传。" if state == "未通过" else "",
            })
    report = import_rows(rows, source="demo data")
    if report.refused:
        click.echo(f"demo declarations: {report.refused} refused "
                   f"({', '.join(r.reason for r in report.rows if r.reason)[:300]})", err=True)
