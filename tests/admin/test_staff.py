"""Staff accounts: login with lockout, roles, disabling, the admin form, the CLI."""

from __future__ import annotations

from sqlalchemy import select

from talentadmin.accounts.models import EnterpriseUser, StaffUser
from talentadmin.core.models import AuditEvent
from talentadmin.extensions import db

from ..conftest import PASSWORD, csrf_in


def _staff_login(client, username, password):
    html = client.get("/admin/login").get_data(as_text=True)
    return client.post("/admin/login", data={"csrf_token": csrf_in(html), "username": username,
                                             "password": password})


def _events(app, action):
    with app.app_context():
        return list(db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).scalars())


def test_staff_login_reaches_admin_in_chinese(client, make_staff):
    make_staff("boss", "admin")
    response = _staff_login(client, "boss", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    page = client.get("/admin/").get_data(as_text=True)
    assert "欢迎您" in page and "系统管理员" in page


def test_staff_login_failure_is_generic_and_audited(client, app, make_staff):
    make_staff("boss", "admin")
    for username in ("boss", "nobody"):
        response = _staff_login(client, username, "wrong-password")
        assert response.status_code == 400 and "用户名或密码错误" in response.get_data(as_text=True)
    assert [(e.outcome, e.actor_label) for e in _events(app, "staff.login")] == [
        ("failure", "boss"), ("failure", "nobody")]


def test_staff_lockout_after_five_failures(client, make_staff):
    make_staff("boss", "admin")
    for _ in range(5):
        response = _staff_login(client, "boss", "wrong-password")
    assert "已锁定" in response.get_data(as_text=True)
    response = _staff_login(client, "BOSS", PASSWORD)  # case does not dodge the lock
    assert response.status_code == 400 and "已锁定" in response.get_data(as_text=True)


def test_disabled_staff_cannot_log_in(client, make_staff):
    make_staff("gone", "admin", active=False)
    response = _staff_login(client, "gone", PASSWORD)
    assert response.status_code == 400 and "账号已停用" in response.get_data(as_text=True)


def test_disabling_ends_the_running_session(client, app, make_staff, staff_login):
    staff_login("boss", "admin")
    other = app.test_client()
    make_staff("reviewer", "initial_reviewer")
    _staff_login(other, "reviewer", PASSWORD)
    assert other.get("/admin/").status_code == 200
    with app.app_context():
        reviewer = db.session.execute(select(StaffUser).filter_by(username="reviewer")).scalar_one()
        reviewer_id = reviewer.id
    html = client.get(f"/admin/staff_user/edit/?id={reviewer_id}").get_data(as_text=True)
    response = client.post(f"/admin/staff_user/edit/?id={reviewer_id}", data={
        "csrf_token": csrf_in(html), "username": "reviewer", "full_name": "",
        "roles": "initial_reviewer", "password": ""})  # active unchecked
    assert response.status_code == 302
    assert other.get("/admin/").status_code == 302


def test_admin_creates_staff_through_the_form(client, app, staff_login):
    staff_login("boss", "admin")
    html = client.get("/admin/staff_user/new/").get_data(as_text=True)
    response = client.post("/admin/staff_user/new/", data={
        "csrf_token": csrf_in(html), "username": "li.wei", "full_name": "李伟",
        "roles": ["initial_reviewer", "second_reviewer"], "active": "y",
        "password": "a-good-password"})
    assert response.status_code == 302
    with app.app_context():
        staff = db.session.execute(select(StaffUser).filter_by(username="li.wei")).scalar_one()
        assert staff.role_names == ("initial_reviewer", "second_reviewer")
        assert staff.password_hash.startswith("scrypt:")
    event = _events(app, "staff.create")[-1]
    assert event.actor_label == "boss" and "a-good-password" not in str(event.detail)
    assert _staff_login(app.test_client(), "li.wei", "a-good-password").status_code == 302


def test_staff_form_errors_beside_fields_keep_input(client, staff_login, make_staff):
    staff_login("boss", "admin")
    make_staff("taken", "supervisor")
    html = client.get("/admin/staff_user/new/").get_data(as_text=True)
    response = client.post("/admin/staff_user/new/", data={
        "csrf_token": csrf_in(html), "username": "taken", "full_name": "王芳",
        "roles": ["supervisor"], "password": "short"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "密码长度须为 8 至 128 个字符" in page
    assert "创建记录失败" in page  # Flask-Admin's flash, in Chinese too
    assert 'value="王芳"' in page
    response = client.post("/admin/staff_user/new/", data={
        "csrf_token": csrf_in(html), "username": "taken", "full_name": "王芳",
        "roles": ["supervisor"], "password": "long-enough-pw"})
    assert "该用户名已被使用" in response.get_data(as_text=True)
    response = client.post("/admin/staff_user/new/", data={
        "csrf_token": csrf_in(html), "username": "new.one", "password": "long-enough-pw"})
    assert "请至少选择一个角色" in response.get_data(as_text=True)


def test_role_change_is_audited_with_before_and_after(client, app, staff_login, make_staff):
    staff_login("boss", "admin")
    staff_id = make_staff("zhang", "initial_reviewer")
    html = client.get(f"/admin/staff_user/edit/?id={staff_id}").get_data(as_text=True)
    client.post(f"/admin/staff_user/edit/?id={staff_id}", data={
        "csrf_token": csrf_in(html), "username": "zhang", "roles": ["supervisor"],
        "active": "y", "password": ""})
    (event,) = _events(app, "staff.update")
    assert event.detail == {"roles": [["initial_reviewer"], ["supervisor"]]}


def test_admin_disables_an_enterprise_account(client, app, staff_login, make_enterprise, portal):
    enterprise_id = make_enterprise("13800138000")
    staff_login("boss", "admin")
    html = client.get(f"/admin/enterprise_user/edit/?id={enterprise_id}").get_data(as_text=True)
    response = client.post(f"/admin/enterprise_user/edit/?id={enterprise_id}",
                           data={"csrf_token": csrf_in(html)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(EnterpriseUser, enterprise_id).active is False
    (event,) = _events(app, "enterprise.update")
    assert event.detail == {"active": [True, False]}


def test_cli_create_staff_reads_password_from_stdin(runner, app):
    result = runner.invoke(args=["create-staff", "chen", "--role", "supervisor",
                                 "--role", "initial_reviewer"], input="a-cli-password\n")
    assert result.exit_code == 0, result.output
    assert "a-cli-password" not in result.output
    assert _staff_login(app.test_client(), "chen", "a-cli-password").status_code == 302


def test_cli_create_staff_refuses_short_password_and_unknown_role(runner):
    result = runner.invoke(args=["create-staff", "chen", "--role", "supervisor"],
                           input="short\n")
    assert result.exit_code != 0 and "8 to 128" in result.output
    result = runner.invoke(args=["create-staff", "chen", "--role", "king"], input="x" * 10)
    assert result.exit_code != 0


def test_cli_create_staff_takes_no_password_argument(runner):
    result = runner.invoke(args=["create-staff", "chen", "--role", "admin",
                                 "--password", "in-shell-history"])
    assert result.exit_code != 0 and "No such option" in result.output


def test_seed_is_idempotent(runner, app):
    from talentadmin.pages.defaults import DEFAULT_PAGES
    from talentadmin.pages.models import PageText

    for _ in range(2):
        result = runner.invoke(args=["seed", "--demo"])
        assert result.exit_code == 0, result.output
    assert "reviewer1" in result.output and "13800000001" in result.output
    assert "13800000002" in result.output and "refused" not in result.output
    with app.app_context():
        from talentadmin.certification.models import Certification
        from talentadmin.declarations.models import Declaration

        assert db.session.query(StaffUser).count() == 4
        assert db.session.query(EnterpriseUser).count() == 2  # a fresh one and a demo unit
        assert db.session.query(Certification).filter_by(status="approved").count() == 1
        assert db.session.query(PageText).count() == len(DEFAULT_PAGES)
        statuses = [status for (status,) in db.session.query(Declaration.status)]
    assert len(statuses) == 26 and statuses.count("pending_initial") == 14  # a queue to work


def test_demo_queue_can_be_worked_in_the_back_office(runner, client, app, staff_login):
    """The demo unit's declarations show in the reviewers' queue and can be passed."""
    from talentadmin.declarations.models import Declaration

    from ..conftest import csrf_in

    assert runner.invoke(args=["seed", "--demo"]).exit_code == 0
    staff_login("r1", "initial_reviewer")
    page = client.get("/admin/declaration_initial/").get_data(as_text=True)
    assert "列表 (14)" in page and "北京示例智能科技有限公司" in page
    response = client.post("/admin/declaration_initial/bulk_all/", data={
        "csrf_token": csrf_in(page), "action": "pass_initial"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.query(Declaration).filter_by(status="pending_second").count() == 19
