"""Build the benchmark data set: ``python -m bench.seed --declarations N [--enterprises M]
[--database-url URL] [--instance DIR] [--reset] [--drop]``.

SQLite by default (``/tmp/talentadmin-bench/bench.db``, never the developer's instance/),
or PostgreSQL (``--database-url postgresql://postgres@127.0.0.1:5432/talentadmin_bench``:
the database is created with psql when missing). The schema comes from the migrations
(``flask_migrate.upgrade()``); the rows go in with Core ``insert()`` in chunks.

Each enterprise is an ``EnterpriseUser`` with an approved ``Certification`` (and its licence
``Attachment``) and a ``Permit`` whose in-force ``PermitRevision`` is approved. Declarations
spread over four rounds (the last one open), statuses, conditions, education levels and
districts, with a skew (a few enterprises declare many people). ID numbers are valid
18-character numbers, AES-GCM encrypted with the HMAC blind index, as the app stores them.

Idempotent: a database already seeded to the same size is reused; a different size is
refused unless ``--reset`` (which empties it first). ``--drop`` drops the PostgreSQL bench
database (or deletes the SQLite file) and exits. The last line is a JSON object.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import make_url

from .common import (
    STAFF_PASSWORD,
    STAFF_ROLES,
    STAFF_USER,
    add_db_args,
    bench_config,
    database_url,
    dialect_of,
    emit,
)

CHUNK = 5000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志宏晓东海波丹玲鹏飞宇浩然子涵欣怡思远文博雨萱"
DISTRICTS = ["dongcheng", "xicheng", "chaoyang", "haidian", "fengtai", "shijingshan",
             "mentougou", "fangshan", "tongzhou", "shunyi", "changping", "daxing", "huairou",
             "pinggu", "miyun", "yanqing"]
DISTRICT_WEIGHTS = [4, 4, 14, 20, 6, 3, 1, 2, 6, 5, 8, 9, 1, 1, 1, 1]
FIELDS = ["it", "ai", "ic", "health", "equipment", "energy", "materials", "finance",
          "business", "culture", "science", "other"]
QUALIFICATIONS = ["hightech", "specialised", "headquarters", "foreign", "service_package",
                  "other"]
CONDITIONS = ["patent", "financing", "tax", "doctorate", "senior_title", "award", "key_staff",
              "other"]
CONDITION_WEIGHTS = [10, 8, 15, 12, 14, 4, 30, 7]
EDUCATION = ["10", "11", "20", "30", "40", "60", "90"]
EDUCATION_WEIGHTS = [12, 25, 45, 10, 5, 2, 1]
DEGREES = {"10": "2", "11": "3", "20": "4", "30": "0", "40": "0", "60": "0", "90": "0"}
POLITICAL = ["01", "02", "03", "13"]
SCHOOLS = ["清华大学", "北京大学", "北京航空航天大学", "北京理工大学", "中国人民大学",
           "浙江大学", "复旦大学", "上海交通大学", "南京大学", "武汉大学", "哈尔滨工业大学",
           "Massachusetts Institute of Technology", "University of Cambridge"]
MAJORS = ["计算机科学与技术", "软件工程", "人工智能", "电子信息工程", "集成电路设计", "生物医学工程",
          "金融学", "机械工程", "材料科学与工程", "应用数学", "工商管理", "法学"]
TITLES = [None, None, "工程师", "高级工程师", "正高级工程师", "研究员", "经济师"]
REGIONS = ["110101", "110105", "110108", "120101", "310104", "320102", "330106", "370102",
           "420106", "440106", "510107", "610113"]
# status shares: the open round, and the closed ones
OPEN_STATUS = (["draft", "pending_initial", "pending_second", "completed", "rejected",
                "withdrawn"], [5, 30, 15, 35, 12, 3])
CLOSED_STATUS = (["completed", "rejected", "withdrawn"], [70, 25, 5])
ROUND_WEIGHTS = [15, 20, 25, 40]


def id_number(rng: random.Random) -> str:
    born = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 35 * 365))
    body = f"{rng.choice(REGIONS)}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def credit_code(i: int) -> str:
    return f"9111{i:06d}MA{i * 7919 % 10**6:06d}"[:18].ljust(18, "0")


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


# --- the database ------------------------------------------------------------------------


def _psql(url, sql: str) -> str:
    parsed = make_url(url)
    command = ["psql", "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
               "-U", parsed.username or "postgres", "-d", "postgres", "-Atc", sql]
    env = None
    if parsed.password:
        import os

        env = {**os.environ, "PGPASSWORD": parsed.password}
    return subprocess.run(command, check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database when missing; True when created."""
    if dialect_of(url) != "postgresql":
        return False
    name = make_url(url).database
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit(f"unexpected database name {name!r}")
    if _psql(url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1":
        return False
    _psql(url, f'CREATE DATABASE "{name}"')
    return True


def drop_database(url: str, instance: str) -> str:
    if dialect_of(url) == "postgresql":
        name = make_url(url).database
        if not name or "bench" not in name:
            raise SystemExit("refusing to drop a database whose name lacks 'bench'")
        _psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return f"dropped database {name}"
    path = Path(make_url(url).database)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"deleted {path}"


def _chunks(rows, size=CHUNK):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def insert_rows(conn, table, rows) -> None:
    for chunk in _chunks(rows):
        conn.execute(insert(table), chunk)


# --- the rows ------------------------------------------------------------------------------


def build(n_decl: int, n_ent: int, seed: int, timings: dict) -> dict:
    from talentadmin.accounts.models import EnterpriseUser, StaffUser
    from talentadmin.certification.models import Certification
    from talentadmin.core import crypto
    from talentadmin.core.models import Attachment
    from talentadmin.core.timeutil import utcnow
    from talentadmin.core.validators import mask_id_number
    from talentadmin.declarations.models import Declaration, Round
    from talentadmin.extensions import db
    from talentadmin.permits.models import Permit, PermitRevision

    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)

    # staff (ORM: a password hash, roles)
    staff = StaffUser(username=STAFF_USER, full_name="Bench")
    staff.role_names = STAFF_ROLES
    staff.set_password(STAFF_PASSWORD)
    db.session.add(staff)
    db.session.commit()

    started = time.perf_counter()
    enterprises, attachments, certifications, permits, revisions = [], [], [], [], []
    units = {}
    for i in range(1, n_ent + 1):
        name = f"北京{rng.choice(['云帆', '星辰', '智联', '华创', '博远', '中科', '恒信', '天工', '鼎新', '未来'])}" \
               f"{rng.choice(['科技', '信息技术', '生物医药', '智能装备', '新材料', '数据'])}有限公司{i:05d}"
        code = credit_code(i)
        units[i] = (name, code)
        created = now - timedelta(days=rng.randrange(400, 1500))
        enterprises.append({"id": i, "mobile": f"139{i:08d}", "active": True,
                            "created_at": created, "security_stamp": f"{rng.getrandbits(64):016x}",
                            "password_hash": None})
        attachments.append({"id": i, "sha256": f"{rng.getrandbits(256):064x}", "size": 180_000,
                            "kind": "png", "original_name": "营业执照.png",
                            "enterprise_user_id": i, "created_at": created})
        certifications.append({
            "id": i, "enterprise_user_id": i, "status": "approved", "licence_id": i,
            "ocr_name": name, "ocr_credit_code": code, "ocr_code_valid": True,
            "ocr_engine": "rapidocr", "ocr_seconds": 1.2, "name": name, "credit_code": code,
            "email": f"hr{i}@example.com", "conflict": False, "created_at": created,
            "submitted_at": created, "decided_at": created})
        permits.append({"id": i, "enterprise_user_id": i, "in_force_id": None,
                        "created_at": created})
        district = rng.choices(DISTRICTS, DISTRICT_WEIGHTS)[0]
        revisions.append({
            "id": i, "permit_id": i, "number": 1, "status": "approved", "unit_name": name,
            "credit_code": code,
            "qualifications": rng.sample(QUALIFICATIONS, rng.choice((1, 1, 2, 3))),
            "registered_district": district, "tax_district": district,
            "field": rng.choice(FIELDS), "contact_name": person_name(rng),
            "contact_mobile": f"138{i:08d}", "tax_year_1": 2025,
            "tax_amount_1": rng.randrange(10, 100000) / 4, "tax_year_2": 2024,
            "tax_amount_2": rng.randrange(10, 100000) / 4, "tax_year_3": 2023,
            "tax_amount_3": rng.randrange(10, 100000) / 4,
            "intro": "主营软件与信息技术服务。", "submitted_at": created,
            "decided_at": created + timedelta(days=3), "decided_by_id": staff.id})
    timings["enterprise_rows_build_s"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    with db.engine.begin() as conn:
        insert_rows(conn, EnterpriseUser.__table__, enterprises)
        insert_rows(conn, Attachment.__table__, attachments)
        insert_rows(conn, Certification.__table__, certifications)
        insert_rows(conn, Permit.__table__, permits)
        insert_rows(conn, PermitRevision.__table__, revisions)
        conn.execute(update(Permit.__table__).values(in_force_id=Permit.__table__.c.id))
    timings["enterprise_insert_s"] = round(time.perf_counter() - started, 2)

    # rounds: three closed, the last one open
    rounds = []
    for n, year in enumerate((2023, 2024, 2025, 2026)):
        if year < 2026:
            opens = now - timedelta(days=365 * (2026 - year) + 60)
            closes = opens + timedelta(days=60)
        else:
            opens, closes = now - timedelta(days=45), now + timedelta(days=30)
        rounds.append({"id": n + 1, "name": f"{year}年引进人才需求申报", "opens_at": opens,
                       "closes_at": closes, "created_at": opens - timedelta(days=7)})
    with db.engine.begin() as conn:
        insert_rows(conn, Round.__table__, rounds)

    # declarations
    started = time.perf_counter()
    ent_weights = [1 / (k ** 0.9) for k in range(1, n_ent + 1)]
    ent_order = list(range(1, n_ent + 1))
    rng.shuffle(ent_order)
    owners = rng.choices(ent_order, weights=ent_weights, k=n_decl)
    round_ids = rng.choices([1, 2, 3, 4], weights=ROUND_WEIGHTS, k=n_decl)
    numbers = [id_number(rng) for _ in range(n_decl)]
    timings["declaration_draw_s"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    encrypted = [crypto.encrypt(number) for number in numbers]
    timings["encrypt_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    hashes = [crypto.blind_index(number) for number in numbers]
    timings["blind_index_s"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    declarations = []
    for k in range(n_decl):
        round_ = rounds[round_ids[k] - 1]
        statuses = OPEN_STATUS if round_["id"] == 4 else CLOSED_STATUS
        status = rng.choices(*statuses)[0]
        window = (round_["closes_at"] if round_["id"] < 4 else now) - round_["opens_at"]
        created = round_["opens_at"] + timedelta(seconds=rng.randrange(
            0, max(1, int(window.total_seconds()) - 3600)))
        submitted = None if status == "draft" else created + timedelta(
            seconds=rng.randrange(60, 3000))
        initial = second = reported = None
        rejected_stage = reason = None
        if status in ("pending_second", "completed"):
            initial = submitted + timedelta(hours=rng.randrange(1, 200))
        if status == "completed":
            second = initial + timedelta(hours=rng.randrange(1, 200))
            if round_["id"] < 3 and rng.random() < 0.8:
                reported = second + timedelta(days=10)
        if status == "rejected":
            rejected_stage = rng.choice(("initial", "initial", "second"))
            reason = "社保缴纳记录不满足要求。"
            if rejected_stage == "second":
                initial = submitted + timedelta(hours=rng.randrange(1, 200))
        if status == "withdrawn":
            reason = "单位申请撤回。"
        education = rng.choices(EDUCATION, EDUCATION_WEIGHTS)[0]
        unit_name, code = units[owners[k]]
        number = numbers[k]
        declarations.append({
            "id": k + 1, "enterprise_user_id": owners[k], "round_id": round_["id"],
            "status": status, "rejected_stage": rejected_stage, "reason": reason,
            "unit_name": unit_name, "credit_code": code, "name": person_name(rng),
            "id_number_enc": encrypted[k], "id_hash": hashes[k],
            "id_masked": mask_id_number(number),
            "gender": "male" if int(number[16]) % 2 else "female",
            "age": 2026 - int(number[6:10]), "political_status": rng.choice(POLITICAL),
            "title": rng.choice(TITLES), "education": education,
            "degree": DEGREES[education], "school": rng.choice(SCHOOLS),
            "major": rng.choice(MAJORS),
            "condition": rng.choices(CONDITIONS, CONDITION_WEIGHTS)[0],
            "duplicate": rng.random() < 0.01, "form_key": None, "version": 1,
            "created_at": created, "submitted_at": submitted, "initial_passed_at": initial,
            "second_passed_at": second, "reported_at": reported,
            "report_batch": reported.strftime("%Y%m%d-%H%M%S") if reported else None})
    timings["declaration_rows_build_s"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    with db.engine.begin() as conn:
        insert_rows(conn, Declaration.__table__, declarations)
    timings["declaration_insert_s"] = round(time.perf_counter() - started, 2)

    # sequences after explicit ids (PostgreSQL), then planner statistics and, on PostgreSQL,
    # the visibility map autovacuum would have set by the time staff open a grid (without it
    # no count is an index-only scan)
    started = time.perf_counter()
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            for table in ("enterprise_user", "attachment", "certification", "permit",
                          "permit_revision", "round", "declaration"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"))
    timings["vacuum_analyze_s"] = round(time.perf_counter() - started, 2)

    statuses = dict(db.session.execute(
        select(Declaration.status, func.count()).group_by(Declaration.status)).all())
    return {"statuses": statuses}


def counts() -> tuple[int, int, bool]:
    from talentadmin.accounts.models import EnterpriseUser, StaffUser
    from talentadmin.declarations.models import Declaration
    from talentadmin.extensions import db

    return (db.session.execute(select(func.count()).select_from(Declaration)).scalar(),
            db.session.execute(select(func.count()).select_from(EnterpriseUser)).scalar(),
            db.session.execute(select(StaffUser.id).where(StaffUser.username == STAFF_USER))
            .first() is not None)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--declarations", type=int, default=20_000)
    parser.add_argument("--enterprises", type=int, default=None,
                        help="default: declarations / 10")
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument("--reset", action="store_true", help="empty a differently seeded db")
    parser.add_argument("--drop", action="store_true", help="drop the bench db and exit")
    add_db_args(parser)
    args = parser.parse_args(argv)
    url = database_url(args)
    n_ent = args.enterprises or max(1, args.declarations // 10)
    result = {"bench": "seed", "dialect": dialect_of(url), "declarations": args.declarations,
              "enterprises": n_ent}

    if args.drop:
        result["dropped"] = drop_database(url, args.instance)
        print(result["dropped"])
        emit(result)
        return 0

    started = time.perf_counter()
    result["created_database"] = ensure_database(url)
    from flask_migrate import upgrade

    from talentadmin import create_app
    from talentadmin.extensions import db
    from talentadmin.pages.operations import seed_defaults as seed_pages
    from talentadmin.reference.operations import seed_defaults as seed_reference

    app = create_app(bench_config(url, args.instance))
    with app.app_context():
        upgrade()
        have_decl, have_ent, have_staff = counts()
        if have_decl or have_ent:
            if (have_decl, have_ent, have_staff) == (args.declarations, n_ent, True):
                print(f"already seeded: {have_decl} declarations, {have_ent} enterprises")
                result.update(skipped=True, total_s=round(time.perf_counter() - started, 2))
                emit(result)
                return 0
            if not args.reset:
                print(f"the bench db holds {have_decl} declarations / {have_ent} enterprises; "
                      "rerun with --reset to rebuild it", file=sys.stderr)
                result.update(refused=True, existing=[have_decl, have_ent])
                emit(result)
                return 2
    if args.reset and (have_decl or have_ent):
        db.engine.dispose()
        drop_database(url, args.instance)
        ensure_database(url)
        app = create_app(bench_config(url, args.instance))
        with app.app_context():
            upgrade()

    timings: dict = {}
    with app.app_context():
        t = time.perf_counter()
        seed_pages()
        seed_reference()
        db.session.commit()
        timings["migrate_and_defaults_s"] = round(time.perf_counter() - started, 2)
        result.update(build(args.declarations, n_ent, args.seed, timings))
        db.session.commit()
        del t
    result.update(timings, skipped=False, total_s=round(time.perf_counter() - started, 2))
    for key, value in timings.items():
        print(f"{key:28s} {value}")
    print(f"statuses: {result['statuses']}")
    print(f"total {result['total_s']} s")
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
