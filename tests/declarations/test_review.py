"""The back office on declarations: queues, bulk decisions, search, exports, reporting."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from talentadmin.core.models import AuditEvent, Notice, StaffComment
from talentadmin.declarations.models import Declaration
from talentadmin.extensions import db

from ..conftest import csrf_in
from .test_portal import declaration_data

IDS = ["11010519491231002X", "110105198001010016", "110105198502020028"]


@pytest.fixture
def three(permitted, open_round, portal, app, client):
    """Three submitted declarations of one unit; the enterprise is logged out after."""
    permitted("13800138000")
    for n, number in enumerate(IDS):
        response = portal.post_multipart("/talent/declarations/new", declaration_data(
            name=f"申报人{n}", id_number=number, school="=HYPERLINK(\"x\")"))
        assert response.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_in(client.get("/").get_data(as_text=True))})
    with app.app_context():
        return list(db.session.execute(select(Declaration.id).order_by(Declaration.id)).scalars())


def statuses(app):
    with app.app_context():
        return list(db.session.execute(
            select(Declaration.status).order_by(Declaration.id)).scalars())


def bulk(client, view, action, ids, **extra):
    token = csrf_in(client.get(f"/admin/{view}/").get_data(as_text=True))
    return client.post(f"/admin/{view}/action/", data={
        "csrf_token": token, "action": action, "rowid": [str(i) for i in ids],
        "url": f"/admin/{view}/", **extra})


def test_queue_grid_shows_masked_ids_and_filters(client, staff_login, three):
    staff_login("r1", "initial_reviewer")
    page = client.get("/admin/declaration_initial/").get_data(as_text=True)
    assert "申报人0" in page and "1101**********002X" in page and IDS[0] not in page
    assert "待审核" in page and "北京云帆智联科技有限公司" in page
    assert 'data-model-action="pass_initial"' in page and "不通过原因" in page
    assert "附件材料不完整" in page  # a reason template to pick


def test_bulk_pass_skips_rows_in_the_wrong_state(client, app, staff_login, three):
    staff_login("r1", "initial_reviewer")
    response = bulk(client, "declaration_initial", "pass_initial", three[:2])
    assert response.status_code == 302
    assert statuses(app) == ["pending_second", "pending_second", "pending_initial"]
    response = bulk(client, "declaration_initial", "pass_initial", [*three, 99999, "x"])
    page = client.get("/admin/declaration_initial/").get_data(as_text=True)
    # Chinese once the catalogs have helper 7's new msgids (初审通过 1 条，跳过 4 条（…）); the
    # English words are tested in tests/admin/test_words.py.
    assert "初审通过 1 条" in page or "Passed the initial review: 1" in page
    assert "跳过 4 条" in page or "4 skipped" in page
    assert statuses(app) == ["pending_second"] * 3
    with app.app_context():
        events = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "declaration.pass_initial")).scalars().all()
        notices = db.session.execute(select(Notice)).scalars().all()
    assert len(events) == 3 and {e.actor_label for e in events} == {"r1"}
    assert len([n for n in notices if n.kind == "declaration.passed_initial"]) == 3


def test_bulk_reject_needs_a_reason_and_applies_it_to_all(client, app, staff_login, three):
    staff_login("r1", "initial_reviewer")
    bulk(client, "declaration_initial", "reject_initial", three)
    assert statuses(app) == ["pending_initial"] * 3
    assert "请填写不通过的原因" in client.get("/admin/declaration_initial/").get_data(
        as_text=True)
    bulk(client, "declaration_initial", "reject_initial", three,
         reason_template="附件材料不完整，请补充上传后重新提交。", reason="缺少学位证书")
    assert statuses(app) == ["rejected"] * 3
    with app.app_context():
        reasons = set(db.session.execute(select(Declaration.reason)).scalars())
        stages = set(db.session.execute(select(Declaration.rejected_stage)).scalars())
    assert reasons == {"附件材料不完整，请补充上传后重新提交。\n缺少学位证书"}
    assert stages == {"initial"}


def test_initial_reviewer_cannot_pass_the_second_stage(client, app, staff_login, three):
    staff_login("r1", "initial_reviewer")
    bulk(client, "declaration_initial", "pass_initial", three)
    response = bulk(client, "declaration_second", "pass_second", three)
    assert response.status_code in (302, 403)
    assert statuses(app) == ["pending_second"] * 3
    token = csrf_in(client.get("/admin/declaration_initial/").get_data(as_text=True))
    client.post("/admin/declaration_initial/decide/", data={
        "csrf_token": token, "id": three[0], "action": "pass_second"})
    assert statuses(app)[0] == "pending_second"


def test_second_reviewer_completes(client, app, staff_login, three):
    staff_login("r1", "initial_reviewer")
    bulk(client, "declaration_initial", "pass_initial", three)
    client.post("/admin/logout", data={"csrf_token": csrf_in(client.get("/admin/").get_data(
        as_text=True))})
    staff_login("r2", "second_reviewer")
    assert client.get("/admin/declaration_initial/").status_code == 403
    bulk(client, "declaration_second", "pass_second", three[:2])
    bulk(client, "declaration_second", "reject_second", three[2:], reason="学历存疑")
    assert statuses(app) == ["completed", "completed", "rejected"]


def test_bulk_action_without_ids_or_csrf(client, app, staff_login, three):
    staff_login("r1", "initial_reviewer")
    response = client.post("/admin/declaration_initial/action/", data={
        "action": "pass_initial", "rowid": [str(three[0])]})
    assert response.status_code == 400
    response = bulk(client, "declaration_initial", "pass_initial", [])
    assert response.status_code in (200, 302)
    assert statuses(app) == ["pending_initial"] * 3


@pytest.mark.parametrize("term", ["%", "_", "'", '"', "a" * 10000, "申报人%", "1101**"])
def test_search_with_awkward_strings(client, staff_login, three, term):
    staff_login("boss", "supervisor")
    response = client.get("/admin/declaration_all/", query_string={"search": term})
    assert response.status_code == 200
    assert "申报人0" not in response.get_data(as_text=True)


def test_search_by_full_id_number_is_exact(client, staff_login, three):
    staff_login("boss", "supervisor")
    page = client.get("/admin/declaration_all/", query_string={"search": IDS[1]},
                      follow_redirects=True).get_data(as_text=True)  # the number moved off
    assert "申报人1" in page and "申报人0" not in page and "申报人2" not in page
    page = client.get("/admin/declaration_all/", query_string={"search": "申报人2"}).get_data(
        as_text=True)
    assert "申报人2" in page and "申报人1" not in page


def _complete_all(client, three, staff_login):
    staff_login("r1", "initial_reviewer", "second_reviewer", "supervisor")
    bulk(client, "declaration_initial", "pass_initial", three)
    bulk(client, "declaration_second", "pass_second", three)


def test_supervisor_exports_csv_for_excel(client, app, staff_login, three):
    _complete_all(client, three, staff_login)
    response = client.get("/admin/declaration_all/municipal/csv/")
    assert response.status_code == 200
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0][:5] == ["序号", "单位名称", "统一社会信用代码", "姓名", "身份证号"]
    assert [row[0] for row in table[1:]] == ["1", "2", "3"]
    assert [row[4].strip() for row in table[1:]] == IDS  # in full (tab: text in Excel)
    assert table[1][11] == "'=HYPERLINK(\"x\")"  # formulas are escaped
    assert table[1][5] == "女" and table[1][9] == "研究生（博士）" and table[1][10] == "博士"
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "declaration.export")).scalar_one()
    assert event.detail["rows"] == 3 and event.actor_label == "r1"


def test_xlsx_export_opens(client, app, staff_login, three):
    from openpyxl import load_workbook

    _complete_all(client, three, staff_login)
    response = client.get("/admin/declaration_all/municipal/xlsx/")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "序号" and len(values) == 4 and values[1][4] == IDS[0]


def test_export_follows_the_grid_filter(client, app, staff_login, three):
    _complete_all(client, three, staff_login)
    response = client.get("/admin/declaration_all/municipal/csv/",
                          query_string={"search": IDS[2]})
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert len(table) == 2 and table[1][3] == "申报人2"


@pytest.mark.parametrize("role", ["initial_reviewer", "second_reviewer", "admin"])
def test_export_by_a_non_supervisor_is_refused(client, staff_login, three, role):
    staff_login("someone", role)
    response = client.get("/admin/declaration_all/municipal/csv/")
    assert response.status_code in (302, 403)


def test_mark_reported_notifies_and_shows_in_timeline(client, app, staff_login, three, portal,
                                                      outbox):
    _complete_all(client, three, staff_login)
    bulk(client, "declaration_all", "report", three[:2])
    with app.app_context():
        rows = db.session.execute(select(Declaration).order_by(Declaration.id)).scalars().all()
        assert rows[0].report_batch and rows[0].reported_at and rows[2].reported_at is None
        kinds = [n.kind for n in db.session.execute(select(Notice)).scalars()]
    assert kinds.count("declaration.reported") == 2
    assert "人才业务办理平台" in outbox.messages()[-1]["text"]
    page = client.get(f"/admin/declaration_all/details/?id={three[0]}").get_data(as_text=True)
    assert "已报市级部门" in page and rows[0].report_batch in page


def test_internal_comments_stay_internal(client, app, staff_login, three, portal):
    staff_login("r1", "initial_reviewer")
    page = client.get(f"/admin/declaration_initial/details/?id={three[0]}").get_data(
        as_text=True)
    assert IDS[0] in page  # the reviewer's detail page shows the full number
    client.post("/admin/declaration_initial/comment/", data={
        "csrf_token": csrf_in(page), "id": three[0], "text": "电话核实过学历"})
    with app.app_context():
        assert db.session.execute(select(StaffComment.text)).scalar_one() == "电话核实过学历"
    client.post("/admin/logout", data={"csrf_token": csrf_in(page)})
    from ..conftest import PASSWORD

    portal.login_password("13800138000", PASSWORD)
    detail = client.get(f"/talent/declarations/{three[0]}").get_data(as_text=True)
    assert "电话核实过学历" not in detail


def test_admin_withdraws_instead_of_deleting(client, app, staff_login, three):
    staff_login("boss", "admin")
    bulk(client, "declaration_all", "withdraw", three[:1])
    assert statuses(app)[0] == "pending_initial"  # a reason is required
    bulk(client, "declaration_all", "withdraw", three[:1], reason="企业申请撤回")
    assert statuses(app)[0] == "withdrawn"
    page = client.get("/admin/declaration_all/").get_data(as_text=True)
    response = client.post("/admin/declaration_all/delete/", data={
        "csrf_token": csrf_in(page), "id": three[0], "url": "/admin/declaration_all/"})
    assert response.status_code == 302  # Flask-Admin refuses: the view cannot delete
    with app.app_context():
        assert db.session.get(Declaration, three[0]) is not None


def test_two_reviewers_at_once_move_each_row_once(app, three):
    """Both act on the same rows; the conditional UPDATE lets each row move once."""
    from talentadmin.accounts.models import StaffUser
    from talentadmin.declarations import operations

    with app.test_request_context():
        staff = []
        for name in ("a", "b"):
            s = StaffUser(username=name, full_name="")
            s.role_names = ["initial_reviewer"]
            s.set_password("irrelevant-1")
            db.session.add(s)
            staff.append(s)
        db.session.commit()
        first = operations.decide_many(three, "pass_initial", staff[0])
        second = operations.decide_many(three, "pass_initial", staff[1])
        db.session.commit()
        assert len(first.done) == 3 and second.done == [] and second.skipped == {"state": 3}
        count = db.session.execute(select(db.func.count(AuditEvent.id)).where(
            AuditEvent.action == "declaration.pass_initial")).scalar()
    assert count == 3


def test_admin_correction_is_audited_with_before_and_after(client, app, staff_login, three):
    import re

    staff_login("boss", "admin")
    page = client.get(f"/admin/declaration_all/edit/?id={three[0]}").get_data(as_text=True)
    assert IDS[0] not in page  # the ID number is not on the correction form
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    response = client.post(f"/admin/declaration_all/edit/?id={three[0]}", data={
        "csrf_token": csrf_in(page), "version": version, "name": "申报人零",
        "political_status": "13", "title": "高级工程师", "education": "10", "degree": "2",
        "school": "=HYPERLINK(\"x\")", "major": "计算机科学与技术", "condition": "patent"})
    assert response.status_code == 302
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "declaration.admin_update")).scalar_one()
    assert event.detail == {"name": ["申报人0", "申报人零"], "title": ["无", "高级工程师"]}
    stale = client.post(f"/admin/declaration_all/edit/?id={three[0]}", data={
        "csrf_token": csrf_in(page), "version": version, "name": "过期的修改",
        "political_status": "13", "title": "无", "education": "10", "degree": "2",
        "school": "x", "major": "y", "condition": "patent"})
    assert "已在别处被修改" in stale.get_data(as_text=True)


def test_supervisor_cannot_edit(client, staff_login, three):
    staff_login("boss", "supervisor")
    response = client.get(f"/admin/declaration_all/edit/?id={three[0]}")
    assert response.status_code == 302


def test_attachments_preview_as_pictures_for_staff(client, staff_login, three, app):
    staff_login("r1", "initial_reviewer")
    with app.app_context():
        d = db.session.get(Declaration, three[0])
        files = [(f.id, f.attachment.kind) for f in d.files]
    page = client.get(f"/admin/declaration_initial/details/?id={three[0]}").get_data(
        as_text=True)
    assert files
    for file_id, _kind in files:
        src = f"/admin/declaration_initial/file/?id={three[0]}&amp;file_id={file_id}&amp;preview=1"
        assert f'<img src="{src}"' in page  # the picture of this very file
        response = client.get(f"/admin/declaration_initial/file/?id={three[0]}"
                              f"&file_id={file_id}&preview=1")
        assert response.status_code == 200 and response.data[:8] == b"\x89PNG\r\n\x1a\n"
        assert "sandbox" in response.headers["Content-Security-Policy"]


def test_clear_the_whole_filtered_queue_at_once(client, app, staff_login, three):
    staff_login("r1", "initial_reviewer")
    page = client.get("/admin/declaration_initial/").get_data(as_text=True)
    assert "bulk-all" in page and "全部记录（3 条）" in page
    response = client.post("/admin/declaration_initial/bulk_all/?search=申报人1",
                           data={"csrf_token": csrf_in(page), "action": "pass_initial"})
    assert response.status_code == 302
    assert statuses(app) == ["pending_initial", "pending_second", "pending_initial"]
    client.post("/admin/declaration_initial/bulk_all/", data={
        "csrf_token": csrf_in(page), "action": "reject_initial", "reason": "批量退回"})
    assert statuses(app) == ["rejected", "pending_second", "rejected"]
    response = client.post("/admin/declaration_initial/bulk_all/", data={
        "csrf_token": csrf_in(page), "action": "pass_second"})
    assert response.status_code == 403


@pytest.mark.real_commits
def test_two_connections_deciding_the_same_rows_move_each_once(app, three):
    """Two reviewers, two database connections, the same rows at the same moment: the first
    UPDATE holds the rows until it commits; the second then finds them moved and skips them."""
    import threading
    from types import SimpleNamespace

    from talentadmin.declarations import operations

    reviewers = [SimpleNamespace(id=None, username=name, role_names=("initial_reviewer",))
                 for name in ("a", "b")]
    outcomes = {}
    first_updated = threading.Event()

    def second_reviewer():
        with app.app_context():
            first_updated.wait()
            outcomes["b"] = operations.decide_many(three, "pass_initial", reviewers[1])
            db.session.commit()

    thread = threading.Thread(target=second_reviewer)
    thread.start()
    with app.app_context():
        outcomes["a"] = operations.decide_many(three, "pass_initial", reviewers[0])
        first_updated.set()  # b now runs its UPDATE while a's transaction is still open
        db.session.commit()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert sorted(outcomes["a"].done) == sorted(three)
    assert outcomes["b"].done == [] and outcomes["b"].skipped == {"state": 3}
    assert statuses(app) == ["pending_second"] * 3
    with app.app_context():
        moves = db.session.execute(select(db.func.count(AuditEvent.id)).where(
            AuditEvent.action == "declaration.pass_initial")).scalar()
    assert moves == 3


def test_a_wrong_data_key_shows_a_warning_not_an_error(client, app, staff_login, three):
    staff_login("r1", "initial_reviewer")
    app.config["DATA_KEY"] = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="  # 32 bytes of "A"
    try:
        response = client.get(f"/admin/declaration_initial/details/?id={three[0]}")
    finally:
        app.config["DATA_KEY"] = None
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1101**********002X" in page and IDS[0] not in page


def test_filter_choices_follow_the_language_and_the_lists(client, app, staff_login, three):
    import json
    import re

    staff_login("boss", "supervisor")
    page = client.get("/admin/declaration_all/").get_data(as_text=True)
    groups = json.loads(re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', page,
                                  re.S).group(1))
    options = {label: [o for f in items for o in (f["options"] or [])]
               for label, items in groups.items()}
    assert ["pending_second", "待复审"] in options["状态"]
    assert ["chaoyang", "朝阳区"] in options["注册地所在区"]
    assert any(o[1] == "2026年引进人才需求申报" for o in options["申报批次"])


def test_grid_escapes_what_enterprises_typed(client, app, staff_login, three):
    with app.app_context():
        db.session.get(Declaration, three[0]).name = "<script>alert(1)</script>"
        db.session.commit()
    staff_login("boss", "supervisor")
    page = client.get("/admin/declaration_all/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _row_ids(page: str) -> list[int]:
    import re

    seen: list[int] = []
    for value in map(int, re.findall(r'name="rowid" class="action-checkbox" value="(\d+)"', page)):
        if value not in seen:
            seen.append(value)
    return seen


def test_grid_counts_up_to_a_cap_then_pages_on(client, app, staff_login, three, monkeypatch):
    from talentadmin.declarations import admin as review

    staff_login("r1", "initial_reviewer")
    page = client.get("/admin/declaration_initial/?page_size=20").get_data(as_text=True)
    assert "列表 (3)" in page and _row_ids(page) == three
    monkeypatch.setattr(review, "COUNT_CAP", 2)
    page = client.get("/admin/declaration_initial/?page_size=20").get_data(as_text=True)
    assert "列表 (超过 2)" in page and "全部记录（超过 2 条）" in page
    monkeypatch.setattr(review.InitialQueueView, "page_size_options", (1, 2, 3))
    monkeypatch.setattr(review.InitialQueueView, "page_size", 2)
    first = client.get("/admin/declaration_initial/?page_size=2").get_data(as_text=True)
    assert _row_ids(first) == three[:2] and "page=1&amp;page_size=2" in first  # a next page
    last = client.get("/admin/declaration_initial/?page=1&page_size=2").get_data(as_text=True)
    assert _row_ids(last) == three[2:]
    beyond = client.get("/admin/declaration_initial/?page=9&page_size=2")
    assert beyond.status_code == 200 and _row_ids(beyond.get_data(as_text=True)) == []


@pytest.mark.parametrize(("grid", "rows"), [("declaration_initial", 3),
                                            ("declaration_second", 0),
                                            ("declaration_all", 3)])
def test_grid_reads_the_database_in_three_statements(client, app, staff_login, three,
                                                     sql_log, grid, rows):
    with app.app_context():
        round_id = db.session.get(Declaration, three[0]).round_id
    staff_login("r1", "initial_reviewer", "second_reviewer", "supervisor")
    client.get(f"/admin/{grid}/")
    with sql_log() as statements:
        page = client.get(f"/admin/{grid}/?flt0_0={round_id}&sort=10&desc=1")
    assert page.status_code == 200 and len(_row_ids(page.get_data(as_text=True))) == rows
    # the test's own transaction control (each request runs in a savepoint) is not the page's
    statements = [s for s in statements
                  if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))]
    # The page's own: the user, the lists, the page with its count; the server-side session
    # costs its read (and the write of its last-seen time, at most once a minute).
    session = [s for s in statements if "server_session" in s]
    assert len(statements) - len(session) <= 3, "\n".join(statements)
    assert len(session) <= 2, session


@pytest.mark.parametrize("desc", [False, True])
def test_grid_sorts_on_every_sortable_column(client, app, staff_login, three, desc):
    from talentadmin.declarations.admin import AllDeclarationsView

    with app.app_context():  # distinct names, ages and times, so each order is checkable
        for n, pk in enumerate(three):
            row = db.session.get(Declaration, pk)
            row.name, row.age = f"申报人{2 - n}", 30 + n
        db.session.commit()
    staff_login("boss", "supervisor")
    columns = list(AllDeclarationsView.column_list)
    for name in AllDeclarationsView.column_sortable_list:
        name = name[0] if isinstance(name, tuple) else name
        if name not in columns:
            continue
        url = f"/admin/declaration_all/?sort={columns.index(name)}" + ("&desc=1" if desc else "")
        response = client.get(url)
        assert response.status_code == 200, name
        ids = _row_ids(response.get_data(as_text=True))
        assert sorted(ids) == sorted(three), name
        if name in ("submitted_at", "age"):
            assert ids == (three[::-1] if desc else three), name
        if name == "name":
            assert ids == (three if desc else three[::-1]), name


def test_grid_labels_follow_edits_of_the_lists(client, app, staff_login, three):
    from talentadmin.reference.models import ReferenceItem

    staff_login("boss", "supervisor")
    page = client.get("/admin/declaration_all/").get_data(as_text=True)
    with app.app_context():
        code = db.session.get(Declaration, three[0]).education
        item = db.session.execute(select(ReferenceItem).where(
            ReferenceItem.kind == "education", ReferenceItem.code == code)).scalar_one()
        old = item.name_zh
        assert old in page
        item.name_zh = "改过的学历名称"
        db.session.commit()
    page = client.get("/admin/declaration_all/").get_data(as_text=True)
    assert "改过的学历名称" in page and f">{old}<" not in page


def test_every_column_of_the_grid_is_read_from_its_row(client, staff_login, three):
    """A grid row is a plain row of the page statement, not an ORM object: every listed
    column must be one of its fields or have a formatter (a cell would read nothing)."""
    from talentadmin.declarations.admin import GRID_COLUMNS, DeclarationView

    fields = {column.key for column in GRID_COLUMNS}
    for name in DeclarationView.column_list:
        assert name in fields or name in DeclarationView.column_formatters, name
    staff_login("boss", "supervisor")
    page = client.get("/admin/declaration_all/").get_data(as_text=True)
    assert page.count('<td class="col-round">') == 3
    assert page.count("2026年引进人才需求申报") >= 3  # the round's name in each row


def test_grid_words_follow_the_language(client, staff_login, three):
    staff_login("r1", "initial_reviewer")
    page = client.get("/admin/declaration_initial/").get_data(as_text=True)
    assert "列表 (3)" in page and ">筛选<" in page and "搜索" in page and "批量操作" in page
    client.post("/language/en", data={"csrf_token": csrf_in(page),
                                       "next": "/admin/declaration_initial/"})
    page = client.get("/admin/declaration_initial/").get_data(as_text=True)
    assert "List (3)" in page and "Add Filter" in page and "With selected" in page
    assert "Pending review" in page and "列表" not in page and '<html lang="en">' in page


# --- what the workflow table drives ---------------------------------------------------------


def decision_buttons(page: str) -> set[str]:
    import re

    return set(re.findall(r'<input type="hidden" name="action" value="([a-z_]+)">', page))


@pytest.mark.parametrize(("roles", "view", "second_stage", "expected"), [
    (("initial_reviewer",), "declaration_initial", False, {"pass_initial", "reject_initial"}),
    (("second_reviewer",), "declaration_second", True, {"pass_second", "reject_second"}),
    (("supervisor",), "declaration_all", False, set()),
    (("admin",), "declaration_all", False, {"pass_initial", "reject_initial", "withdraw"}),
    (("admin",), "declaration_all", True, {"pass_second", "reject_second", "withdraw"}),
])
def test_the_details_page_offers_the_decisions_the_table_gives_the_role(
        client, app, staff_login, three, roles, view, second_stage, expected):
    if second_stage:
        with app.app_context():
            db.session.get(Declaration, three[0]).status = "pending_second"
            db.session.commit()
    staff_login("someone", *roles)
    page = client.get(f"/admin/{view}/details/?id={three[0]}").get_data(as_text=True)
    assert decision_buttons(page) == expected
    # a decision that needs a reason (the table says so) comes with its reason box
    for name in expected:
        assert (f'id="reason-{name}"' in page) == name.startswith(("reject", "withdraw")), name


def test_grids_read_their_actions_and_queues_from_the_table(client, staff_login, three):
    from talentadmin.declarations import admin as grids
    from talentadmin.declarations import workflow

    assert list(grids.QUEUES) == [workflow.PENDING_INITIAL, workflow.PENDING_SECOND]
    assert grids.InitialQueueView.decisions == ("pass_initial", "reject_initial")
    assert grids.SecondQueueView.decisions == ("pass_second", "reject_second")
    assert grids.AllDeclarationsView.decisions == ("report", "list", "not_list", "withdraw")
    assert set(grids.InitialQueueView.read_roles) == {"admin", "initial_reviewer", "supervisor"}
    staff_login("boss", "admin", "supervisor")
    page = client.get("/admin/declaration_all/").get_data(as_text=True)
    assert 'data-model-action="report"' in page and 'data-model-action="withdraw"' in page
    assert 'data-model-action="list"' in page and 'data-model-action="not_list"' in page
    assert "bulk-all" not in page  # "every matching row" only for a queue's own decisions
    for kind in ("csv", "xlsx"):  # the supervisor's exports, in the grid's menu bar
        assert f'href="/admin/declaration_all/municipal/{kind}/"' in page


@pytest.mark.parametrize("value", ["x", "99999999999999999999", "2026-13-01 00:00:00 to x"])
def test_decide_all_and_exports_refuse_a_filter_value_the_filter_refuses(
        client, app, staff_login, three, value):
    """The page says "invalid filter value" and lists unfiltered; a change to (or an export
    of) every matching row must not widen like that: 400, nothing moved or written."""
    staff_login("boss", "initial_reviewer", "supervisor")
    flt = "flt0_0" if value != "2026-13-01 00:00:00 to x" else "flt0_7"
    page = client.get(f"/admin/declaration_initial/?{flt}={value}").get_data(as_text=True)
    assert "alert-danger" in page and len(_row_ids(page)) == 3  # Flask-Admin's own way
    response = client.post(f"/admin/declaration_initial/bulk_all/?{flt}={value}",
                           data={"csrf_token": csrf_in(page), "action": "pass_initial"})
    assert response.status_code == 400
    assert statuses(app) == ["pending_initial"] * 3
    for kind in ("csv", "xlsx"):
        assert client.get(f"/admin/declaration_all/municipal/{kind}/?{flt}={value}"
                          ).status_code == 400
    with app.app_context():
        assert db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "declaration.export")).first() is None


def test_a_new_state_with_its_decision_is_a_new_queue(app, monkeypatch):
    """One edit in the table — a state and a decision from it — makes the queue, its
    action (text and question from the transition), who may read it, and its button."""
    from talentadmin.core.workflow import State, Transition, Workflow, roles
    from talentadmin.declarations import admin as grids
    from talentadmin.declarations import workflow

    table = workflow.WORKFLOW
    extra = Transition(workflow.COMPLETED, roles("third_reviewer"), label="Pass (third)",
                       confirm="Pass them all?", style="success")
    monkeypatch.setattr(workflow, "WORKFLOW", Workflow(
        "declaration", {**table.transitions, "pending_third": {"pass_third": extra}},
        {**table.states, "pending_third": State("Pending third review", "info")}))
    assert grids.queue_decisions("pending_third") == ["pass_third"]
    queue = grids.queue_view("pending_third")
    assert queue.decisions == queue.bulk_all_decisions == ("pass_third",)
    assert set(queue.read_roles) == {"admin", "supervisor", "third_reviewer"}
    assert grids.allowed("pass_third", ["third_reviewer"])
    assert not grids.allowed("pass_third", ["initial_reviewer"])
    view = queue(Declaration, endpoint="declaration_pending_third")
    monkeypatch.setattr(view, "is_action_allowed", lambda name: name != "delete")
    with app.test_request_context():
        assert view.get_actions_list() == ([("pass_third", "Pass (third)")],
                                           {"pass_third": "Pass them all?"})
    # the existing queues are unchanged by the new one
    assert grids.queue_decisions(workflow.PENDING_INITIAL) == ["pass_initial", "reject_initial"]
