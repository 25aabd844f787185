"""The authorisation matrix: every route of the application (read from ``app.url_map``, so
Flask-Admin's endpoints too) × every kind of visitor × the records of two enterprises.

Each route is classified below: who may read it (GET) and who may act on it (POST), and for
routes about one record, whose records. A route missing from these tables fails the test, so
a new route cannot ship unclassified. Reads are compared outcome by outcome; for every
POST, each visitor who may not act is refused (a redirect, 403 or 404, never 200, never a
5xx) and nothing in the database changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from talentadmin.extensions import db

from ..conftest import PASSWORD, Portal, csrf_in
from .records import build

ANON, A, B = "anonymous", "enterprise A", "enterprise B"
ROLES = ("admin", "initial_reviewer", "second_reviewer", "supervisor")
ENTERPRISES = (A, B)
ACTORS = (ANON, *ENTERPRISES, *ROLES)
ALL_STAFF = ROLES

# Outcomes of a GET
OK, FORBIDDEN, MISSING = 200, 403, 404
LOGIN = "→ /login"  # the portal's login page
STAFF_LOGIN = "→ /admin/login"
AWAY = "→ elsewhere"  # another redirect: Flask-Admin's refusal, or the page's next step


# --- the records every route is tried on ---------------------------------------------------


@dataclass(frozen=True)
class Obj:
    """One record: ``kind`` (certification, revision, declaration, account, attachment…),
    whose it is (``A``/``B``/``None``), its state, and the ids its URLs need."""

    kind: str
    owner: str | None
    state: str
    id: int
    sub: int = 0  # a file of the record


def objects(a, b) -> list[Obj]:
    found = []
    for who, rec in ((A, a), (B, b)):
        found += [Obj("certification", who, "approved", rec.cert, rec.licence),
                  Obj("certification", who, "manual_review", rec.cert_review),
                  Obj("certification", who, "recognised", rec.cert_unsent, rec.licence_unsent),
                  Obj("revision", who, "approved", rec.revision, rec.revision_file),
                  Obj("revision", who, "pending", rec.revision_pending,
                      rec.revision_pending_file),
                  Obj("account", who, "active", rec.user),
                  Obj("attachment", who, "orphan", rec.orphan),
                  Obj("attachment", who, "draft", rec.attachments["draft"]),
                  Obj("attachment", who, "recognised", rec.licence_unsent)]
        states = rec.declarations if who == A else {"pending_initial": None}
        found += [Obj("declaration", who, state, rec.declarations[state],
                      rec.declaration_files[state]) for state in states]
    return found


# --- rules: who may GET a route, for which records ----------------------------------------


def everyone(outcome=OK):
    return lambda actor, obj: outcome


def public_record(kind: str, outcome=OK):
    """A public page about one record (a published notice): everyone alike."""
    rule = everyone(outcome)
    rule.kind = kind
    return rule


def enterprise_page(outcome=OK):
    """A page of the logged-in enterprise (no record in its address)."""
    return lambda actor, obj: (LOGIN if actor == ANON else outcome if actor in ENTERPRISES
                               else FORBIDDEN)


def own_record(kind: str, outcome=OK, anonymous=LOGIN):
    """A page about one of the enterprise's records: its owner only; another account gets
    404 (its records do not exist for them); staff use the back office."""

    def rule(actor, obj):
        if actor == ANON:
            return anonymous
        if actor not in ENTERPRISES:
            return FORBIDDEN if anonymous == LOGIN else MISSING
        if obj is None:  # the same page without a record (a blank integrity statement)
            return OK
        if obj.owner != actor:
            return MISSING
        return outcome(obj) if callable(outcome) else outcome

    rule.kind = kind
    return rule


@dataclass(frozen=True)
class View:
    """A back-office grid: who may read it, edit and create in it, which records of its kind
    it shows (``scope``), which bulk actions each role may run, and its own pages."""

    read: tuple[str, ...]
    kind: str | None = None
    scope: tuple[str, ...] = ()  # the states it shows; empty: all
    edit: tuple[str, ...] = ()
    create: tuple[str, ...] = ()
    actions: dict | None = None  # bulk action -> roles
    decisions: dict | None = None  # decision on one record (or on all the grid holds) -> roles
    extra: tuple[str, ...] = ()  # its own endpoints (besides Flask-Admin's)


REVIEWERS = ("admin", "initial_reviewer")
SUBMITTED = ("pending_initial", "pending_second", "completed", "rejected")
VIEWS = {
    "admin": View(ALL_STAFF),  # the back-office home (and its login/logout)
    "dashboard": View(("admin", "supervisor")),
    "certification_queue": View(ALL_STAFF, "certification", ("manual_review",),
                                edit=("admin",),
                                actions={"approve": REVIEWERS, "reject": REVIEWERS},
                                decisions={"approve": REVIEWERS, "reject": REVIEWERS},
                                extra=("file", "decide")),
    "certification_all": View(ALL_STAFF, "certification",
                              ("approved", "manual_review", "rejected"),
                              edit=("admin",),
                              actions={"approve": REVIEWERS, "reject": REVIEWERS},
                              decisions={"approve": REVIEWERS, "reject": REVIEWERS},
                              extra=("file", "decide")),
    "permit_review": View(ALL_STAFF, "revision", edit=("admin",),
                          actions={"approve": REVIEWERS, "reject": REVIEWERS},
                          decisions={"approve": REVIEWERS, "reject": REVIEWERS},
                          extra=("file", "decide")),
    "declaration_initial": View(
        ("admin", "initial_reviewer", "supervisor"), "declaration", ("pending_initial",),
        actions={"pass_initial": REVIEWERS, "reject_initial": REVIEWERS},
        decisions={"pass_initial": REVIEWERS, "reject_initial": REVIEWERS,
                   "withdraw": ("admin",)},
        extra=("file", "decide", "comment", "bulk_all", "search_view")),
    "declaration_second": View(
        ("admin", "second_reviewer", "supervisor"), "declaration", ("pending_second",),
        actions={"pass_second": ("admin", "second_reviewer"),
                 "reject_second": ("admin", "second_reviewer")},
        decisions={"pass_second": ("admin", "second_reviewer"),
                   "reject_second": ("admin", "second_reviewer"), "withdraw": ("admin",)},
        extra=("file", "decide", "comment", "bulk_all", "search_view")),
    "declaration_all": View(
        ("admin", "supervisor"), "declaration", SUBMITTED, edit=("admin",),
        actions={"report": ("supervisor",), "list": ("supervisor",),
                 "not_list": ("supervisor",), "withdraw": ("admin",)},
        decisions={"pass_initial": ("admin",), "reject_initial": ("admin",),
                   "pass_second": ("admin",), "reject_second": ("admin",),
                   "withdraw": ("admin",), "report": ("supervisor",)},
        extra=("file", "decide", "comment", "bulk_all", "search_view", "municipal_export",
               "export_job", "export_download", "export_restart")),
    "enterprise_user": View(ALL_STAFF, "account", edit=("admin",),
                            extra=("mobile_view", "move_view", "evidence_view")),
    "staff_user": View(("admin",), "staff", edit=("admin",), create=("admin",)),
    "round": View(ALL_STAFF, "round", edit=("admin",), create=("admin",)),
    "reason_template": View(ALL_STAFF, "reason_template", edit=("admin",), create=("admin",)),
    "page_text": View(("admin",), "page_text", edit=("admin",)),
    "portal_item": View(("admin",), "portal_item", edit=("admin",), create=("admin",),
                        actions={"publish": ("admin",), "unpublish": ("admin",)}),
    "portal_guide": View(("admin",), extra=("upload", "download")),
    "audit_event": View(("admin", "supervisor"), "audit_event"),
    "sms_outbox": View(("admin", "supervisor"), extra=("resend_one", "resend_all")),
    "legacy_import": View(("admin",), extra=("check", "job", "run", "restart", "report")),
    **{f"reference_{kind}": View(ALL_STAFF, f"reference_{kind}", edit=("admin",),
                                 create=("admin",))
       for kind in ("district", "field", "qualification", "condition", "education", "degree",
                    "political_status")},
}


def staff_rule(view: View, allowed):
    """``allowed(role, obj)`` for a staff role that may read the grid; others are refused:
    anonymous visitors and enterprises are sent to the staff login, other roles get 403."""

    def rule(actor, obj):
        if actor not in ROLES:
            return STAFF_LOGIN
        if actor not in view.read:
            return FORBIDDEN
        return allowed(actor, obj)

    return rule


def in_scope(view: View, obj: Obj | None) -> bool:
    return obj is None or not view.scope or obj.state in view.scope


def admin_rule(view_name: str, endpoint: str):
    """The rule of one Flask-Admin endpoint of a grid, from the grid's line in VIEWS."""
    view = VIEWS[view_name]
    rules = {
        "index": lambda role, obj: OK,  # a plain view's page
        "index_view": lambda role, obj: OK,
        "details_view": lambda role, obj: OK if in_scope(view, obj) else AWAY,
        "edit_view": lambda role, obj: OK if role in view.edit and in_scope(view, obj) else AWAY,
        "create_view": lambda role, obj: OK if role in view.create else AWAY,
        "export": lambda role, obj: AWAY,  # Flask-Admin's export is off everywhere
        "ajax_lookup": lambda role, obj: MISSING,  # no ajax fields
        "file": lambda role, obj: OK if in_scope(view, obj) else MISSING,
        "municipal_export": lambda role, obj: OK if role == "supervisor" else FORBIDDEN,
        # an export job is its supervisor's own: none here, so a 404 for supervisors
        "export_job": lambda role, obj: MISSING if role == "supervisor" else FORBIDDEN,
        "export_download": lambda role, obj: MISSING if role == "supervisor" else FORBIDDEN,
        # an import job: none here, so a 404 for the admins who may follow any
        "job": lambda role, obj: MISSING,
        "report": lambda role, obj: MISSING,
        "download": lambda role, obj: AWAY,  # no guide uploaded: back to its upload page
        # the account procedures (admins): no account named, so a 404 for admins
        "mobile_view": lambda role, obj: MISSING if role == "admin" else FORBIDDEN,
        "move_view": lambda role, obj: MISSING if role == "admin" else FORBIDDEN,
        "evidence_view": lambda role, obj: MISSING,
    }
    return staff_rule(view, rules[endpoint])


# Routes outside the back-office grids: endpoint -> rule (and the kind of record it is about)
PORTAL = {
    "static": everyone(),
    "admin.static": everyone(),
    "health.healthz": everyone(),  # the load balancer's probe: says nothing private
    "accounts.captcha_image": everyone(MISSING),  # an unknown challenge
    "portal.home": everyone(),
    "portal.services": everyone(),
    "portal.talent_introduction": everyone(),
    "portal.support": everyone(),
    "portal.item_list": everyone(),
    "portal.item": public_record("portal_item"),
    "portal.guide": everyone(MISSING),  # none uploaded: a page that says so
    "portal.faq": everyone(),
    "accounts.login": lambda actor, obj: AWAY if actor in ENTERPRISES else OK,
    "admin.login": lambda actor, obj: AWAY if actor in ROLES else OK,
    "accounts.profile": enterprise_page(),
    "accounts.mobile": enterprise_page(),
    "accounts.password": enterprise_page(),
    "accounts.notices": enterprise_page(),
    "certification.upload": enterprise_page(),
    "certification.status": enterprise_page(),
    "declarations.hub": enterprise_page(),
    "declarations.new": enterprise_page(),
    "permits.apply": enterprise_page(AWAY),  # to the change already under review
    "certification.confirm": own_record(
        "certification", lambda obj: OK if obj.state == "recognised" else AWAY),
    "certification.licence_preview": own_record("certification"),
    "declarations.detail": own_record("declaration"),
    "declarations.edit": own_record(
        "declaration", lambda obj: OK if obj.state in ("draft", "rejected") else AWAY),
    "declarations.download": own_record("declaration"),
    "declarations.integrity_statement": own_record("declaration"),
    "declarations.integrity_statement_pdf": own_record("declaration"),
    "permits.detail": own_record("revision"),
    "permits.download": own_record("revision"),
    "permits.submitted": own_record("revision"),
    "files.download": own_record("attachment", anonymous=MISSING),
}

# Who may POST to a route; everyone else must be refused with no effect. ``OPEN``: anyone
# (login, logout, language); the route is still posted to by all, and must not fail.
OPEN = ACTORS
POSTS = {
    "accounts.login": OPEN, "accounts.logout": OPEN, "admin.login": OPEN, "admin.logout": OPEN,
    "portal.set_language": OPEN,
    "accounts.captcha_new": OPEN,  # a new image code for the login and mobile pages
    **dict.fromkeys(("accounts.profile", "accounts.mobile", "accounts.password",
                     "accounts.notices", "certification.upload", "certification.confirm",
                     "declarations.new", "declarations.edit", "permits.apply"), ENTERPRISES),
}


def post_roles(view_name: str, endpoint: str, action: str | None = None) -> tuple[str, ...]:
    """Who may POST to a Flask-Admin endpoint of a grid."""
    view = VIEWS[view_name]
    if endpoint == "action_view":
        return (view.actions or {}).get(action, ())
    if endpoint in ("edit_view", "ajax_update"):
        return view.edit
    if endpoint == "create_view":
        return view.create
    if endpoint == "delete_view":
        return ()
    if endpoint in ("search_view", "comment"):
        return view.read
    if endpoint in ("decide", "bulk_all"):
        return (view.decisions or {}).get(action, ())
    if endpoint in ("resend_one", "resend_all"):  # the SMS outbox
        return ("admin",)
    if endpoint in ("check", "run", "restart"):  # the old system's data
        return ("admin",)
    if endpoint == "upload":  # the operation guide
        return ("admin",)
    if endpoint == "export_restart":
        return ("supervisor",)
    if endpoint in ("mobile_view", "move_view"):  # the account procedures
        return ("admin",)
    raise KeyError(endpoint)


# --- the walk ----------------------------------------------------------------------------------


def classify(app):
    """(endpoint, url rule, GET rule or None, POST roles or None) for every route; raises
    on a route with no entry."""
    unclassified, routes = [], []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        view_name, _, name = endpoint.partition(".")
        get_rule = post = None
        if endpoint in PORTAL or endpoint in POSTS:
            get_rule = PORTAL.get(endpoint) if "GET" in rule.methods else None
            post = POSTS.get(endpoint) if "POST" in rule.methods else None
            if ("GET" in rule.methods) != (get_rule is not None) or (
                    "POST" in rule.methods) != (post is not None):
                unclassified.append(f"{endpoint} {sorted(rule.methods)}")
                continue
        elif view_name in VIEWS and (name in ("index", "index_view", "details_view",
                                              "edit_view", "create_view", "export",
                                              "ajax_lookup", "action_view", "delete_view",
                                              "ajax_update")
                                     or name in VIEWS[view_name].extra):
            get_rule = admin_rule(view_name, name) if "GET" in rule.methods else None
            post = (view_name, name) if "POST" in rule.methods else None
        else:
            unclassified.append(endpoint)
            continue
        routes.append((endpoint, rule, get_rule, post))
    return routes, unclassified


def test_every_route_is_classified(app):
    routes, unclassified = classify(app)
    assert unclassified == [], "classify these routes in tests/security/test_authz_matrix.py"
    assert len(routes) > 150


def fingerprint() -> str:
    """A digest of every table a refused request must leave alone (not the audit log, the
    sessions, counters and captchas, which a refusal may well write)."""
    volatile = {"audit_event", "server_session", "rate_counter", "captcha_challenge",
                "sms_code"}
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        if table.name in volatile:
            continue
        for row in db.session.execute(select(table).order_by(*table.primary_key.columns)):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def outcome(response):
    if response.status_code in (301, 302, 303):
        location = response.headers["Location"].replace("http://localhost", "").split("?")[0]
        return {"/login": LOGIN, "/admin/login": STAFF_LOGIN}.get(location, AWAY)
    return response.status_code


@pytest.fixture
def visitors(app, make_staff, outbox):
    """A logged-in client per visitor, and both enterprises' records."""
    a = build(app, "13800138001")
    b = build(app, "13800138002", round_id=a.round)
    _published_notice(app)
    clients = {ANON: app.test_client()}
    for actor, records in ((A, a), (B, b)):
        client = clients[actor] = app.test_client()
        assert Portal(client, app, outbox).login_password(records.mobile,
                                                          PASSWORD).status_code == 302
    for role in ROLES:
        make_staff(role, role)
        client = clients[role] = app.test_client()
        html = client.get("/admin/login").get_data(as_text=True)
        assert client.post("/admin/login", data={"csrf_token": csrf_in(html), "username": role,
                                                 "password": PASSWORD}).status_code == 302
    return clients, a, b


def _published_notice(app) -> None:
    from datetime import date

    from talentadmin.pages.models import PortalItem

    with app.app_context():
        db.session.add(PortalItem(kind="notice", title_zh="通知", body_zh="正文",
                                  title_en="Notice", body_en="Text",
                                  published_on=date(2026, 3, 1), published=True))
        db.session.commit()


def urls_for(app, endpoint, rule, objs, view_kind, a):
    """(url, record) pairs to try a route with: one per record of its kind (or one)."""
    from talentadmin.accounts.models import StaffUser
    from talentadmin.core.models import AuditEvent
    from talentadmin.pages.models import PageText, PortalItem
    from talentadmin.reference.models import ReasonTemplate, ReferenceItem

    args = set(rule.arguments)
    fixed = {"filename": "portal.css" if endpoint == "static" else "admin/css/bootstrap4/admin.css",
             "challenge_id": "unknown", "code": "en", "export_type": "csv", "kind": "csv",
             "job_id": 1, "section": "announcements"}
    base = {k: v for k, v in fixed.items() if k in args}
    kind = getattr(PORTAL.get(endpoint), "kind", None) or view_kind
    name = endpoint.partition(".")[2]
    record_args = args - set(base)
    if not kind or not (record_args or name in ("details_view", "edit_view", "file")):
        return [(app.url_for(endpoint, **base), None)]
    with app.app_context():
        singles = {"staff": lambda: db.session.scalars(select(StaffUser.id)).first(),
                   "round": lambda: a.round,
                   "reason_template": lambda: db.session.scalars(select(ReasonTemplate.id)).first(),
                   "page_text": lambda: db.session.scalars(select(PageText.id)).first(),
                   "portal_item": lambda: db.session.scalars(select(PortalItem.id)).first(),
                   "audit_event": lambda: db.session.scalars(select(AuditEvent.id)).first()}
        if kind in singles or kind.startswith("reference_"):
            item = (singles[kind]() if kind in singles else db.session.scalars(
                select(ReferenceItem.id).where(ReferenceItem.kind == kind[10:])).first())
            records = [Obj(kind, None, "any", item)]
        else:
            records = [o for o in objs if o.kind == kind]
    pairs = []
    for obj in records:
        values = dict(base)
        if name == "file":
            values.update(id=obj.id, file_id=obj.sub) if kind != "certification" else \
                values.update(id=obj.id)
            if kind == "certification" and obj.state == "manual_review":
                continue  # its licence is tried through the approved one
        elif name in ("details_view", "edit_view"):
            values["id"] = obj.id
        for arg in record_args:
            values[arg] = obj.sub if arg == "file_id" else obj.id
        if endpoint.endswith(".download") and "file_id" in record_args and not obj.sub:
            continue
        pairs.append((app.url_for(endpoint, **values), obj))
    return pairs


def test_authorisation_matrix(app, visitors):
    clients, a, b = visitors
    routes, unclassified = classify(app)
    assert unclassified == []
    objs = objects(a, b)
    wrong = []
    for endpoint, rule, get_rule, _ in sorted(routes, key=lambda r: r[0]):
        if get_rule is None:
            continue
        view_kind = VIEWS.get(endpoint.partition(".")[0], View(())).kind
        for url, obj in urls_for(app, endpoint, rule, objs, view_kind, a):
            for actor in ACTORS:
                response = clients[actor].get(url)
                got = outcome(response)
                response.close()
                expected = get_rule(actor, obj)
                if got != expected:
                    wrong.append(f"GET {url} as {actor}: {got}, expected {expected}")
    assert wrong == []


def payloads(view_name: str, endpoint: str, objs: list[Obj], a) -> list[tuple[str | None, dict]]:
    """What a POST to a back-office endpoint carries: every action or decision of the grid,
    on the records of its kind it shows, with the fields a decision or an edit needs."""
    view = VIEWS.get(view_name, View(()))
    mine = [o for o in objs if o.kind == view.kind]
    ids = [str(o.id) for o in mine if in_scope(view, o)] or [str(o.id) for o in mine] or ["1"]
    common = {"id": ids[0], "reason": "不符合条件", "text": "内部意见", "url": "/admin/",
              "search": "张三", "list_form_pk": ids[0], "name": "x", "value": "x"}
    if endpoint == "action_view":
        return [(action, {**common, "action": action, "rowid": ids})
                for action in (view.actions or {"delete": ()})]
    if endpoint in ("decide", "bulk_all"):
        return [(action, {**common, "id": i, "action": action})
                for action in (view.decisions or {"approve": ()})
                for i in (ids if endpoint == "decide" else ids[:1])]
    return [(None, {**common, "id": i}) for i in ids[:2]]


def portal_payloads(endpoint: str, a) -> list[tuple[str | None, dict, tuple]]:
    """(url, data, who may) posted to an enterprise route: about A's records where the route
    is about a record (so B is the other account), else A's and B's own pages."""
    data = {"name": "李四", "submit": "1", "email": "x@example.com", "mobile": "13900009999"}
    own = {"certification.confirm": [f"/certification/{a.cert_unsent}/confirm"],
           "declarations.edit": [f"/talent/declarations/{a.declarations[s]}/edit"
                                 for s in ("draft", "rejected")]}
    if endpoint in own:
        return [(url, data, (A,)) for url in own[endpoint]]
    return [(None, data, POSTS[endpoint])]


def csrf_token(client, actor) -> str:
    page = "/login" if actor == ANON else "/" if actor in ENTERPRISES else "/admin/"
    return csrf_in(client.get(page).get_data(as_text=True))


def test_no_one_acts_without_the_right(app, visitors):
    clients, a, b = visitors
    routes, _ = classify(app)
    objs = objects(a, b)
    tokens = {actor: csrf_token(client, actor) for actor, client in clients.items()}
    with app.app_context():
        before = fingerprint()
    wrong = []
    for endpoint, rule, _, post in sorted(routes, key=lambda r: r[0]):
        if post is None or post is OPEN:
            continue
        if isinstance(post, tuple) and len(post) == 2 and post[0] in VIEWS:
            view_name, name = post
            arguments = {key: value for key, value in (("kind", "csv"), ("job_id", 1))
                         if key in rule.arguments}
            cases = [(app.url_for(endpoint, **arguments),
                      data, post_roles(view_name, name, action))
                     for action, data in payloads(view_name, name, objs, a)]
        else:
            cases = [(url or app.url_for(endpoint), data, allowed)
                     for url, data, allowed in portal_payloads(endpoint, a)]
        for url, data, allowed in cases:
            refused = [actor for actor in ACTORS if actor not in allowed]
            for actor in refused:
                response = clients[actor].post(url, data={"csrf_token": tokens[actor], **data})
                if response.status_code == 200 or response.status_code >= 500:
                    wrong.append(f"POST {url} {data.get('action', '')} as {actor}: "
                                 f"{response.status_code}")
                response.close()
            with app.app_context():
                after = fingerprint()
            if refused and after != before:
                wrong.append(f"POST {url} {data.get('action', '')} as one of {refused} "
                             "changed the database")
            before = after
    for url in ("/logout", "/admin/logout", "/language/en", "/login", "/admin/login"):
        for actor, client in clients.items():
            status = client.post(url, data={"csrf_token": tokens[actor]}).status_code
            if status >= 500:
                wrong.append(f"POST {url} as {actor}: {status}")
    assert wrong == []
