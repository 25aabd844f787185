"""The back office's words: every event kind has a translated name, and every timeline shows
it (never a raw kind such as ``certification.upload``, never 创建时间 as a first entry)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from talentadmin.core import audit
from talentadmin.core.i18n import LANG_COOKIE
from talentadmin.core.workflow import Workflow
from talentadmin.extensions import db

from ..conftest import csrf_in

PACKAGE = Path(__file__).resolve().parents[2] / "talentadmin"
ACTOR_KINDS = ("enterprise", "staff")  # what ``f"{user.kind}.login"`` can name
WRITERS = ("core/audit.py", "core/workflow.py")  # pass their callers' kinds on


def _strings(node) -> list[str] | None:
    """The kinds an argument can be: a literal, ``"a" if x else "b"``, or an f-string over
    an actor's kind; ``None`` when the code does not say."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _strings(node.body), _strings(node.orelse)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.JoinedStr):
        parts = [[value.value] if isinstance(value, ast.Constant) else list(ACTOR_KINDS)
                 for value in node.values]
        kinds = [""]
        for options in parts:
            kinds = [kind + option for kind in kinds for option in options]
        return kinds
    return None


def _workflow(module: str, node) -> Workflow | None:
    """The workflow a call names (``workflow.WORKFLOW``, ``workflow.REPORTING``) in a
    module of ``talentadmin``."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        package = module.rsplit(".", 1)[0]
        try:
            owner = importlib.import_module(f"{package}.{node.value.id}")
        except ImportError:
            return None
        found = getattr(owner, node.attr, None)
        return found if isinstance(found, Workflow) else None
    return None


def written_kinds() -> tuple[set[str], list[str]]:
    """Every event kind the code writes, read from its calls: ``audit.record(kind)``,
    ``audit.correct(…, kind, …)``, ``created(record, workflow, action)`` and the workflow
    writer's ``<workflow>.<action>`` for every transition of every table. Calls whose kind
    the code does not spell out are returned as ``file:line`` to be looked at."""
    kinds: set[str] = set()
    unread: list[str] = []
    workflows: list[Workflow] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if str(path.relative_to(PACKAGE)) in WRITERS:
            continue
        module = "talentadmin." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
            argument = None
            if name == "record" and node.args:
                argument = node.args[0]
            elif name == "correct" and len(node.args) >= 4:
                argument = node.args[3]
            elif name == "created" and len(node.args) >= 3:
                table = _workflow(module, node.args[1])
                names = _strings(node.args[2])
                if table is None or names is None:
                    unread.append(where)
                else:
                    kinds |= {f"{table.name}.{action}" for action in names}
                continue
            if argument is None:
                continue
            names = _strings(argument)
            if names is None:
                unread.append(where)
            else:
                kinds |= set(names)
        if module.endswith(".workflow"):
            owner = importlib.import_module(module)
            workflows += [value for value in vars(owner).values() if isinstance(value, Workflow)]
    for table in workflows:
        for actions in table.transitions.values():
            kinds |= {f"{table.name}.{action}" for action in actions}
    return kinds, unread


def test_every_event_kind_written_has_a_label():
    kinds, unread = written_kinds()
    assert "certification.upload" in kinds and "declaration.pass_initial" in kinds
    assert "staff.login" in kinds and "enterprise.logout" in kinds  # the f-strings
    assert not unread, f"event kinds the test cannot read (spell them out): {unread}"
    missing = sorted(kinds - set(audit.EVENTS))
    assert not missing, f"event kinds without a label in core/audit.py EVENTS: {missing}"


def test_event_label_reads_audit_events_timeline_rows_and_kinds(app):
    from talentadmin.core.models import AuditEvent, StatusChange

    with app.test_request_context(headers={"Cookie": f"{LANG_COOKIE}=en"}):
        assert audit.event_label("certification.upload") == "Licence uploaded"
        assert audit.event_label(AuditEvent(action="staff.login")) == "Staff login"
        row = StatusChange(target_type="permit_revision", action="approve", to_status="x")
        assert audit.event_label(row) == "Business permission approved"
        assert audit.event_label("no.such.kind") == "no.such.kind"  # shown as it is


# --- the timelines, as people see them --------------------------------------------------------


def english(client) -> None:
    client.set_cookie(LANG_COOKIE, "en", domain="localhost")


@pytest.fixture
def submitted(permitted, open_round, declare):
    user_id = permitted("13800138000")
    return declare(user_id)


def test_declaration_timelines_name_events(client, app, staff_login, submitted, portal):
    from ..conftest import PASSWORD

    english(client)
    staff_login("r1", "initial_reviewer")
    page = client.get(f"/admin/declaration_initial/details/?id={submitted}").get_data(
        as_text=True)
    assert "Declaration submitted" in page
    client.post("/admin/declaration_initial/decide/", data={
        "csrf_token": csrf_in(page), "id": submitted, "action": "reject_initial",
        "reason": "缺少学位证书"})
    client.post("/admin/logout", data={"csrf_token": csrf_in(
        client.get("/admin/").get_data(as_text=True))})
    portal.login_password("13800138000", PASSWORD)
    detail = client.get(f"/talent/declarations/{submitted}").get_data(as_text=True)
    timeline = detail.split('class="timeline')[1].split("</ol>")[0]
    lines = timeline.split("<li>")[1:]
    assert "Declaration created" in lines[0]  # created from the portal, then submitted
    assert "Declaration submitted" in lines[1]
    assert "Not approved in the initial review" in lines[2] and "缺少学位证书" in lines[2]
    assert "Created" + "<" not in timeline and "pending_initial" not in timeline


def test_imported_declaration_starts_with_its_import(app, client, permitted, open_round,
                                                     portal, submitted):
    """A record created in its state (an import) starts with that event, not a made-up
    creation line."""
    from talentadmin.core.models import StatusChange

    with app.app_context():
        row = db.session.execute(select(StatusChange).where(
            StatusChange.target_type == "declaration",
            StatusChange.target_id == submitted)).scalar_one()
        row.from_status, row.action = None, "import"
        db.session.commit()
    english(client)
    detail = client.get(f"/talent/declarations/{submitted}").get_data(as_text=True)
    timeline = detail.split('class="timeline')[1].split("</ol>")[0]
    assert "Imported from the old system" in timeline and "Declaration created" not in timeline


def test_permit_timeline_starts_with_the_application(client, app, staff_login, permitted):
    from talentadmin.permits.models import PermitRevision

    permitted("13800138000")
    with app.app_context():
        revision_id = db.session.execute(select(PermitRevision.id)).scalar_one()
    english(client)
    staff_login("r1", "initial_reviewer")
    page = client.get(f"/admin/permit_review/details/?id={revision_id}").get_data(as_text=True)
    timeline = page.split("Timeline")[1].split("</ul>")[0]
    lines = timeline.split("<li>")[1:]
    assert len(lines) == 2
    assert "Business permission application submitted" in lines[0]
    assert "Business permission approved" in lines[1] and "approver" in lines[1]


def test_certification_timeline_names_the_upload(client, app, staff_login, certified):
    from talentadmin.accounts.models import EnterpriseUser
    from talentadmin.certification.models import Certification

    user_id = certified("13800138000")
    with app.test_request_context():
        cert = db.session.execute(select(Certification)).scalar_one()
        cert.status = "manual_review"
        user = db.session.get(EnterpriseUser, user_id)
        audit.record("certification.upload", actor=user, target=cert)
        audit.record("certification.submit_for_review", actor=user, target=cert)
        db.session.commit()
        cert_id = cert.id
    with app.app_context():  # no request: the system acted
        audit.record("certification.approve", target=db.session.get(Certification, cert_id))
        db.session.commit()
    english(client)
    staff_login("boss", "admin")
    page = client.get(f"/admin/certification_all/details/?id={cert_id}").get_data(as_text=True)
    timeline = page.split("Timeline")[1].split("</ul>")[0]
    assert "Licence uploaded" in timeline and "certification.upload" not in timeline
    assert "Submitted for staff review" in timeline
    assert "· System · Certification approved" in timeline and "system" not in timeline


def test_audit_log_grid_names_events(client, staff_login):
    english(client)
    staff_login("boss", "admin")  # the login itself is an event
    page = client.get("/admin/audit_event/").get_data(as_text=True)
    assert 'title="staff.login">Staff login<' in page
    cells = re.findall(r'<td class="col-actor_type">\s*([^<]*?)\s*</td>', page)
    assert "Staff" in cells and set(cells) <= {"Staff", "Anonymous"}, cells  # translated


# --- bulk decisions say what they did ---------------------------------------------------------


def bulk(client, view, action, ids, **extra):
    token = csrf_in(client.get(f"/admin/{view}/").get_data(as_text=True))
    return client.post(f"/admin/{view}/action/", data={
        "csrf_token": token, "action": action, "rowid": [str(i) for i in ids],
        "url": f"/admin/{view}/", **extra})


def flashed(client) -> str:
    with client.session_transaction() as session:
        return " ".join(message for _category, message in session.get("_flashes", []))


def test_bulk_decision_names_the_decision_and_why_rows_were_skipped(client, staff_login,
                                                                     submitted):
    english(client)
    staff_login("r1", "initial_reviewer")
    bulk(client, "declaration_initial", "pass_initial", [submitted])
    assert flashed(client) == "Passed the initial review: 1"
    client.get("/admin/declaration_initial/")  # the message is shown (and gone)
    bulk(client, "declaration_initial", "pass_initial", [submitted, 99999, "x"])
    assert flashed(client) == ("Passed the initial review: 0, 3 skipped (unknown or not "
                               "visible: 1 and not in the expected state: 2)")


def test_bulk_reject_is_not_called_a_pass(client, staff_login, submitted):
    english(client)
    staff_login("r1", "initial_reviewer")
    bulk(client, "declaration_initial", "reject_initial", [submitted], reason="缺少学位证书")
    assert flashed(client) == "Not approved in the initial review: 1"


def test_bulk_permit_decision_counts_what_it_skipped(client, app, staff_login, permitted):
    from talentadmin.permits.models import PermitRevision

    permitted("13800138000")  # approved already: approving again skips it
    with app.app_context():
        revision_id = db.session.execute(select(PermitRevision.id)).scalar_one()
    english(client)
    staff_login("r1", "initial_reviewer")
    bulk(client, "permit_review", "approve", [revision_id, 424242])
    assert flashed(client) == ("Business permission approved: 0, 2 skipped (not in the "
                               "expected state: 1 and unknown or not visible: 1)")


# --- Flask-Admin's words (translations/zh_Hans_CN/LC_MESSAGES/admin.po wins over its own) ---


def test_grid_words_are_natural_chinese(client, staff_login):
    staff_login("r1", "initial_reviewer")
    page = client.get("/admin/declaration_initial/").get_data(as_text=True)
    for stiff in ("选中的", "项目", "添加筛选器", "表中没有任何记录"):
        assert stiff not in page, stiff
    assert "批量操作" in page and "暂无记录" in page and ">筛选<" in page
    assert "20 条/页" in page and "每页 50 条" in page and "每页 100 条" in page


def test_grid_words_stay_english_on_english_pages(client, staff_login):
    english(client)
    staff_login("r1", "initial_reviewer")
    page = client.get("/admin/declaration_initial/").get_data(as_text=True)
    assert "With selected" in page and "There are no items in the table." in page
    assert "50 items" in page and "Add Filter" in page and "批量操作" not in page


# --- file labels: stored in Chinese (the download name), shown in the reader's language ----


def test_declaration_files_are_named_in_english_on_english_pages(client, app, staff_login,
                                                                 submitted):
    from talentadmin.declarations.models import DeclarationFile

    with app.app_context():
        stored = sorted(db.session.execute(select(DeclarationFile.label)).scalars())
    assert stored == sorted(["北京市社会保险个人权益记录", "诚信声明", "相应数量的发明专利证书1",
                             "相应数量的发明专利证书2"])  # kept: the download names
    staff_login("r1", "initial_reviewer")
    url = f"/admin/declaration_initial/details/?id={submitted}"
    chinese = client.get(url).get_data(as_text=True)
    assert "-诚信声明<" in chinese and "相应数量的发明专利证书2" in chinese
    english(client)
    page = client.get(url).get_data(as_text=True)
    for label in ("Beijing social insurance record", "Integrity statement",
                  "The invention patent certificates 1", "The invention patent certificates 2"):
        assert label in page, label
    assert "-诚信声明<" not in page and "相应数量的发明专利证书" not in page


def test_permit_files_are_named_in_english_on_english_pages(client, app, staff_login,
                                                            permitted):
    from talentadmin.permits.models import PermitRevision

    permitted("13800138000")
    with app.app_context():
        revision_id = db.session.execute(select(PermitRevision.id)).scalar_one()
    english(client)
    staff_login("r1", "initial_reviewer")
    page = client.get(f"/admin/permit_review/details/?id={revision_id}").get_data(as_text=True)
    assert "High-tech enterprise certificate" in page and "高新技术企业证书" not in page
    assert re.search(r"Tax payment certificate 20\d\d", page) and "缴纳税费凭证" not in page


def test_file_label_numbers_and_unknown_slots(app):
    from types import SimpleNamespace

    from talentadmin.core.filelabels import file_label

    with app.test_request_context(headers={"Cookie": f"{LANG_COOKIE}=en"}):
        tax = SimpleNamespace(slot="tax:2", label="2024年缴纳税费凭证（3）")
        assert file_label(tax) == "Tax payment certificate 2024 3"
        odd = SimpleNamespace(slot="other", label="其他材料")
        assert file_label(odd) == "其他材料"
    with app.test_request_context():
        assert file_label(tax) == "2024年缴纳税费凭证（3）"  # Chinese pages: as stored
