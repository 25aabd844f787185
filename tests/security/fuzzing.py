"""The machinery of the fuzz suite: a world with every kind of user and record, the forms
found on the pages each user can open, and the hostile values sent to them.

Forms are not listed by hand: every user's pages are crawled (from ``/`` and ``/admin/``,
one page per endpoint), and every ``<form method=post>`` found
is parsed into its fields. So a form added tomorrow is fuzzed tomorrow, and
``test_fuzz.py`` fails when a POST route of ``app.url_map`` has no form on any page.
"""

from __future__ import annotations

import io
import json
import re
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote_from_bytes, urljoin, urlsplit

from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from tests.conftest import PASSWORD, UNIT_CODE, csrf_in, pdf_bytes, permit_form_data, png_bytes

# --- pages and forms -----------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # text, hidden, password, file, checkbox, radio, select, textarea, submit
    values: list[str] = field(default_factory=list)  # the page's value(s) / the options
    multiple: bool = False


@dataclass(repr=False)
class PageForm:
    action: str  # path (and query) the form posts to
    enctype: str
    fields: dict[str, Field] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"PageForm({self.action!r}, {sorted(self.fields)})"


class _FormParser(HTMLParser):
    """``<form method=post>`` elements with their fields; links; Flask-Admin's row ids and
    action names (its action form gets them from the grid by script)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[PageForm] = []
        self.links: list[str] = []
        self.rowids: list[str] = []
        self.model_actions: list[str] = []
        self._form: PageForm | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def _add(self, f: Field) -> None:
        if self._form is None:
            return
        have = self._form.fields.get(f.name)
        if have is None:
            self._form.fields[f.name] = f
        else:
            have.values.extend(v for v in f.values if v not in have.values)
            if f.kind in ("checkbox", "file"):
                have.multiple = True

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-model-action" in a:
            self.model_actions.append(a["data-model-action"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            if (a.get("method") or "get").lower() == "post":
                self._form = PageForm(a.get("action") or "", a.get("enctype") or "")
            else:
                self._form = None
        elif tag in ("input", "button") and a.get("name"):
            kind = (a.get("type") or ("submit" if tag == "button" else "text")).lower()
            if a["name"] == "rowid":
                self.rowids.append(a.get("value") or "")
            self._add(Field(a["name"], kind, [a.get("value") or ""],
                            multiple="multiple" in a))
        elif tag == "select" and a.get("name"):
            self._select = Field(a["name"], "select", [], multiple="multiple" in a)
        elif tag == "option" and self._select is not None:
            self._select.values.append(a.get("value") or "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = Field(a["name"], "textarea", [""])

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.values[0] += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            self._add(self._select)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._add(self._textarea)
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def parse_page(html: str, page_url: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        form.action = _local(urljoin(page_url, form.action or page_url))
        if "action" in form.fields and parser.model_actions:  # Flask-Admin's action form
            form.fields["action"].values.extend(parser.model_actions)
            form.fields["rowid"] = Field("rowid", "checkbox", parser.rowids or ["1"],
                                         multiple=True)
    return parser


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- the world -------------------------------------------------------------------------------

ROLES = ("admin", "initial_reviewer", "second_reviewer", "supervisor")
USERNAMES = {"admin": "admin", "initial_reviewer": "reviewer1",  # the demo staff
             "second_reviewer": "reviewer2", "supervisor": "supervisor"}
SKIP_PATHS = ("/static/", "/admin/static/", "/files/", "/captcha/")
SKIP_ENDPOINT_PARTS = (".file", "municipal_export", ".download", "export")


@dataclass
class World:
    app: object
    clients: dict = field(default_factory=dict)  # who -> test client
    pages: dict = field(default_factory=dict)  # who -> [page url]
    forms: list = field(default_factory=list)  # (who, page url, PageForm)
    staff_password: str = ""
    enterprise_mobile: str = "13800138000"
    enterprise_id: int = 0
    staff_ids: dict = field(default_factory=dict)  # role -> the demo staff member's id
    _reachable: dict = field(default_factory=dict)

    def __repr__(self) -> str:  # a failing example prints its arguments
        return f"World({len(self.forms)} forms)"

    def endpoint(self, path: str, method: str = "POST") -> str | None:
        adapter = self.app.url_map.bind("localhost")
        try:
            return adapter.match(urlsplit(path).path, method=method)[0]
        except HTTPException:  # a 404, a 405 or a redirect: no endpoint
            return None

    # --- logging in again when a fuzzed request ended the session --------------------------
    def login(self, who: str) -> None:
        from talentadmin.accounts.models import EnterpriseUser, StaffUser
        from talentadmin.extensions import db

        client = self.clients[who]
        with self.app.app_context():  # undo what a fuzzed admin form may have changed
            if who == "enterprise":
                user = db.session.execute(select(EnterpriseUser).where(
                    EnterpriseUser.id == self.enterprise_id)).scalar_one()
                user.mobile, user.active = self.enterprise_mobile, True
                user.set_password(PASSWORD)
            elif who != "anonymous":  # by id: a fuzzed staff form may have renamed it
                user = db.session.get(StaffUser, self.staff_ids[who])
                user.username, user.active = USERNAMES[who], True
                user.role_names = [who]
                user.set_password(self.staff_password)
            db.session.commit()
        if who == "anonymous":
            return
        if who == "enterprise":
            html = client.get("/login?mode=password").get_data(as_text=True)
            response = client.post("/login?mode=password", data={
                "csrf_token": csrf_in(html), "pw-mobile": self.enterprise_mobile,
                "pw-password": PASSWORD, "pw-submit": "1"})
        else:
            html = client.get("/admin/login").get_data(as_text=True)
            response = client.post("/admin/login", data={
                "csrf_token": csrf_in(html), "username": USERNAMES[who],
                "password": self.staff_password})
        assert response.status_code == 302, (who, response.get_data(as_text=True)[:2000])

    def get(self, who: str, url: str):
        """GET as ``who``, logging in again first when the session has ended (a page
        ``who`` could open sends it to a login page)."""
        client = self.clients[who]
        response = client.get(url)
        if who != "anonymous" and response.status_code == 302 and "login" in (
                response.location or "") and self.endpoint(urlsplit(url).path, "GET") in (
                self.reachable(who)):
            self.login(who)
            response = client.get(url)
        return response

    def reachable(self, who: str) -> frozenset:
        """The endpoints of the pages ``who`` opened while crawling."""
        if who not in self._reachable:
            self._reachable[who] = frozenset(self.endpoint(urlsplit(page).path, "GET")
                                             for page in self.pages.get(who, ()))
        return self._reachable[who]

    # --- crawling ----------------------------------------------------------------------------
    def crawl(self, who: str, seeds: tuple[str, ...], limit: int = 120) -> None:
        """Open every page ``who`` can reach from ``seeds``, one per endpoint (the first
        link found: a grid's first record, which for a queue is one waiting for review)."""
        seen_keys, queue, pages, budget = set(), list(seeds), [], 3 * limit
        while queue and len(pages) < limit and budget > 0:
            url = queue.pop(0)
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or any(parts.path.startswith(p)
                                                   for p in SKIP_PATHS):
                continue
            endpoint = self.endpoint(parts.path, "GET")
            if endpoint is None or any(s in endpoint for s in SKIP_ENDPOINT_PARTS):
                continue
            if endpoint in ("accounts.logout", "admin.logout"):
                continue
            key = endpoint  # one page per endpoint: a grid's sort and page links are many
            if key in seen_keys:
                continue
            seen_keys.add(key)
            budget -= 1
            response = self.clients[who].get(url)
            if response.status_code in (301, 302, 303) and response.location:
                seen_keys.discard(key)
                queue.insert(0, _local(urljoin(url, response.location)))
                continue
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            pages.append(url)
            parsed = parse_page(response.get_data(as_text=True), url)
            queue.extend(_local(urljoin(url, link)) for link in parsed.links
                         if not link.startswith(("#", "javascript:", "mailto:", "tel:")))
            for form in parsed.forms:
                self.forms.append((who, url, form))
        self.pages[who] = pages


def build_world(app) -> World:
    """Staff of every role, the demo unit's declarations in every state, an enterprise
    with an approved permit, a draft and an open round (it is logged in), another
    enterprise with a permit application pending and a third whose certification waits for
    a reviewer."""
    from talentadmin.accounts.models import StaffUser
    from talentadmin.cli import _demo_password, _seed_demo
    from talentadmin.extensions import db

    world = World(app)
    with app.test_request_context():
        _seed_demo()
        db.session.commit()
        world.staff_password = _demo_password()
        world.staff_ids = {role: db.session.execute(select(StaffUser.id).where(
            StaffUser.username == name)).scalar_one() for role, name in USERNAMES.items()}
    for who in ("anonymous", "enterprise", *ROLES):
        world.clients[who] = app.test_client()

    world.enterprise_id = _permitted_enterprise(app, world.clients["enterprise"],
                                                world.enterprise_mobile, approve=True)
    _permitted_enterprise(app, app.test_client(), "13800138001", approve=False)
    _certification_waiting(app, "13800138002")
    _certification_waiting(app, world.enterprise_mobile, status="recognised")
    client = world.clients["enterprise"]
    html = client.get("/talent/declarations/new").get_data(as_text=True)
    response = client.post("/talent/declarations/new", data={
        "csrf_token": csrf_in(html), "form_key": secrets.token_urlsafe(8), "name": "草稿人",
        "save_draft": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    for who in ROLES:
        world.login(who)
    world.crawl("anonymous", ("/", "/login", "/admin/login"))
    world.crawl("enterprise", ("/", "/certification/", "/talent/declare", "/account", "/certification/upload",
                               "/account/password", "/account/mobile", "/notices"))
    for who in ROLES:
        world.crawl(who, ("/admin/",))
    return world


def _permitted_enterprise(app, client, mobile: str, *, approve: bool) -> int:
    from werkzeug.datastructures import FileStorage

    from talentadmin.accounts.models import EnterpriseUser, StaffUser
    from talentadmin.certification.models import Certification
    from talentadmin.core import storage
    from talentadmin.extensions import db
    from talentadmin.permits import operations
    from talentadmin.permits.models import PermitRevision

    with app.test_request_context():
        user = EnterpriseUser(mobile=mobile, active=True)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.flush()
        licence = storage.save_upload(FileStorage(io.BytesIO(png_bytes()), filename="l.png"),
                                      enterprise_user_id=user.id)
        name = f"北京测试{mobile[-3:]}科技有限公司"
        db.session.add(Certification(
            enterprise_user_id=user.id, licence=licence, status="approved", ocr_name=name,
            ocr_credit_code=UNIT_CODE, ocr_code_valid=True, name=name,
            credit_code=UNIT_CODE, email="hr@example.com"))
        db.session.commit()
        user_id = user.id
    html = client.get("/login?mode=password").get_data(as_text=True)
    assert client.post("/login?mode=password", data={
        "csrf_token": csrf_in(html), "pw-mobile": mobile, "pw-password": PASSWORD,
        "pw-submit": "1"}).status_code == 302
    html = client.get("/talent/permit/apply").get_data(as_text=True)
    response = client.post("/talent/permit/apply",
                           data={"csrf_token": csrf_in(html), **permit_form_data()},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    if approve:
        with app.test_request_context():
            staff = db.session.execute(select(StaffUser).where(
                StaffUser.username == "reviewer1")).scalar_one()
            revision = db.session.execute(select(PermitRevision).join(PermitRevision.permit)
                                          .filter_by(enterprise_user_id=user_id)).scalar_one()
            assert operations.approve(revision, staff)
            db.session.commit()
    return user_id


def _certification_waiting(app, mobile: str, status: str = "manual_review") -> None:
    from werkzeug.datastructures import FileStorage

    from talentadmin.accounts.models import EnterpriseUser
    from talentadmin.certification.models import Certification
    from talentadmin.core import storage
    from talentadmin.extensions import db

    with app.test_request_context():
        user = db.session.execute(select(EnterpriseUser).where(
            EnterpriseUser.mobile == mobile)).scalar_one_or_none()
        if user is None:
            user = EnterpriseUser(mobile=mobile, active=True)
            db.session.add(user)
            db.session.flush()
        licence = storage.save_upload(FileStorage(io.BytesIO(pdf_bytes()), filename="l.pdf"),
                                      enterprise_user_id=user.id)
        db.session.add(Certification(
            enterprise_user_id=user.id, licence=licence, status=status,
            ocr_name="北京待审科技有限公司", ocr_credit_code=UNIT_CODE, ocr_code_valid=True,
            name="北京待审科技有限公司", credit_code=UNIT_CODE, email="hr@example.com"))
        db.session.commit()


# --- hostile values ----------------------------------------------------------------------------

# Every code point, surrogates and NUL included (sent as bytes: a surrogate becomes the
# invalid UTF-8 a hostile client can send).
any_text = st.text(st.characters(codec=None, min_codepoint=0), max_size=40)
controls = st.text(st.sampled_from("\x00\x01\x08\x0b\x1b\x7f\u200b\u202e\ufeff\r\n\t"),
                   min_size=1, max_size=4)
huge_int = st.integers(min_value=2**31 - 1, max_value=2**200).map(str)
odd_numbers = st.sampled_from(["-1", "0", "-0", "²", "١٢", "٣٠", "1e9", "1.5", " 7 ", "1_0",
                               "+3", "0x10", "NaN", "", " ", "99999999999999999999999",
                               str(2**63), str(-2**63 - 1), "1,2,²", ",,", "1,-2",
                               "9223372036854775808,1"])


def long_text() -> st.SearchStrategy[str]:
    return st.sampled_from(["x", "中", "\x00", "9", "=", "\U0001f600"]).map(
        lambda c: c * 100_000)


def hostile_scalar() -> st.SearchStrategy[str]:
    return st.one_of(any_text, huge_int, odd_numbers, long_text(),
                     st.tuples(any_text, controls, any_text).map("".join),
                     st.tuples(st.sampled_from(["/", "/admin/", "//", "/\\"]), controls,
                               any_text).map("".join),  # return addresses
                     st.integers(min_value=-2**70, max_value=2**70).map(str))


@dataclass(frozen=True)
class FilePart:
    content: bytes
    filename: str


file_part = st.builds(
    FilePart,
    st.sampled_from([b"", b"\x00" * 10, b"%PDF-1.4 not really", png_bytes(), b"hello",
                     b"\x89PNG\r\n\x1a\n" + b"\x00" * 20]),
    st.sampled_from(["a.pdf", "", "../../etc/passwd", "中文.png", "x\x00.pdf", "a" * 300]))


# The draws never depend on what a page shows (its fields and options change as the fuzzing
# changes the world, and Hypothesis refuses a strategy that draws differently on replay):
# each field of a form takes the next "slot" of a fixed-shape recipe, read against the page.


@dataclass(frozen=True)
class Slot:
    mode: int
    scalar: str
    file: FilePart
    pick: int
    picks: tuple
    json: object


slot = st.builds(Slot, st.integers(0, 11), hostile_scalar(), file_part,
                 st.integers(0, 2**16), st.lists(st.integers(0, 2**16), max_size=4).map(tuple),
                 st.deferred(lambda: json_value))
SLOTS = 24


def recipe() -> st.SearchStrategy[list[Slot]]:
    return st.lists(slot, min_size=SLOTS, max_size=SLOTS)


def field_values(f: Field, s: Slot) -> list:
    """What is sent for one field: usually what the page offers, else anything."""
    offered = f.values or [""]
    page_value = offered[s.pick % len(offered)]
    if f.name == "csrf_token":
        return f.values[:1]
    if f.kind == "file":
        return [[], [s.file], [s.scalar]][s.mode % 3]
    if f.kind == "checkbox" and f.multiple and s.mode < 4:  # some of the boxes
        return [offered[i % len(offered)] for i in s.picks]
    if f.kind in ("submit", "checkbox") and s.mode % 2:
        return []  # an unpressed button, an unticked box
    if s.mode < 6:
        return [page_value]
    return {6: [s.scalar], 7: [s.scalar], 8: [s.file], 9: [],
            10: [s.scalar, page_value], 11: [page_value, s.scalar, s.scalar]}[s.mode]


def extra_args() -> st.SearchStrategy[list[tuple[str, str]]]:
    """Query arguments a grid or a page reads (and a few it does not)."""
    names = st.sampled_from(["page", "page_size", "sort", "desc", "search", "id", "file_id",
                             "round", "status", "next", "url", "mode", "name", "inline",
                             "preview", "flt0_0", "flt1_99", "flt0_", "flt9999999999999_1",
                             "fltx_1", "year", "kind", "rowid"])
    return st.lists(st.tuples(names, hostile_scalar()), max_size=5)


FILTER_VALUES = ["2026-01-01 00:00:00 to 2026-12-31 23:59:59", "2026-13-01 to x", "1", "0",
                 "true", "to"]


def filter_recipe() -> st.SearchStrategy[list[tuple[int, int, int, Slot]]]:
    """Up to four filters: (which filter, its position, which value, a hostile value)."""
    return st.lists(st.tuples(st.integers(0, 2**16), st.integers(-1, 12),
                              st.integers(0, 2**16), slot), max_size=4)


def filter_args(view, chosen) -> list[tuple[str, str]]:
    """Every filter of a Flask-Admin view, by its URL name, with real or hostile values."""
    args = []
    for index, flt in enumerate(view.get_filters() or ()):
        options = [str(k) for k, _ in (flt.get_options(view) or [])]
        args.append((view.get_filter_arg(index, flt), options + FILTER_VALUES))
    if not args:
        return []
    found = []
    for which, position, pick, s in chosen:
        arg, values = args[which % len(args)]
        value = s.scalar if s.mode >= 6 else values[pick % len(values)]
        found.append((f"flt{position}_{arg}", value))
    return found


# --- encoding a request ------------------------------------------------------------------------


def _b(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def query_string(pairs) -> str:
    return "&".join(f"{quote_from_bytes(_b(k))}={quote_from_bytes(_b(v))}" for k, v in pairs)


def encode(pairs: list[tuple[str, object]], multipart: bool) -> tuple[bytes, str]:
    """The raw body and content type (what a browser or a script would send)."""
    if not multipart and not any(isinstance(v, FilePart) for _, v in pairs):
        return query_string(pairs).encode("ascii"), "application/x-www-form-urlencoded"
    boundary = "----fuzz" + secrets.token_hex(8)
    body = io.BytesIO()
    for name, value in pairs:
        body.write(b"--" + boundary.encode() + b"\r\n")
        disposition = b'Content-Disposition: form-data; name="' + _b(name).replace(
            b'"', b"%22") + b'"'
        if isinstance(value, FilePart):
            body.write(disposition + b'; filename="' + _b(value.filename).replace(
                b'"', b"%22").replace(b"\r", b"").replace(b"\n", b"") + b'"\r\n'
                + b"Content-Type: application/octet-stream\r\n\r\n" + value.content + b"\r\n")
        else:
            body.write(disposition + b"\r\n\r\n" + _b(value) + b"\r\n")
    body.write(b"--" + boundary.encode() + b"--\r\n")
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


# What a JSON body may carry where a form expects text (Flask-WTF reads JSON bodies too).
json_value = st.one_of(st.integers(min_value=-2**70, max_value=2**70), st.none(), st.booleans(),
                       st.floats(allow_nan=False), st.lists(st.integers(), max_size=3),
                       st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def encode_json(pairs: list[tuple[str, object]]) -> bytes:
    """A JSON object (a repeated name: a list); a lone surrogate is written escaped, as a
    script may send it."""
    body: dict = {}
    for name, value in pairs:
        body.setdefault(name, []).append(value)
    return json.dumps({k: v[0] if len(v) == 1 else v for k, v in body.items()}).encode()


def with_query(path: str, pairs) -> str:
    if not pairs:
        return path
    return path + ("&" if "?" in path else "?") + query_string(pairs)


def form_key(path: str) -> str:
    """A form's address without its record: one fuzz target per form, not per row."""
    parts = urlsplit(path)
    names = sorted({k for k, _ in parse_qsl(parts.query)})
    return re.sub(r"/\d+", "/<n>", parts.path) + ("?" + "&".join(names) if names else "")
