"""A bounded hostile run against a live server of ours on loopback (a fresh ``make run``):
``python -m bench.hostile [--base http://127.0.0.1:5000] [--password-file
instance/demo-password]``.

As anonymous, the demo enterprise with declarations, an initial reviewer, a supervisor and an
admin (the demo logins of ``flask seed --demo``): every GET route of the app with hostile path
values and 22 hostile query sets (negative and huge pages, garbage sorts and filters, NUL and
formula text, full ID numbers, numbers past 64 bits, other scripts' digits, foreign return
addresses, header injection), and every POST route with garbage. Counts answers 5xx and broken
connections; the last line is JSON. Only loopback addresses are accepted.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HOSTILE_ARGS = [
    {"page": "-1"}, {"page": "99999999999999999999"}, {"page_size": "-5"}, {"sort": "999"},
    {"sort": "x", "desc": "2"}, {"id": str(2**70)}, {"id": "²"}, {"id": "a\x00"},
    {"search": "\x00=1+2"}, {"search": "110101199003070022"}, {"flt0_0": "\x00"},
    {"flt0_1": str(2**70)}, {"flt1_3": "٣"}, {"flt0_7": "9999-99-99 to x"},
    {"url": "//evil.example"}, {"url": "/\r\nSet-Cookie: x=1"}, {"status": "\x00"},
    {"round": str(2**64)}, {"file_id": "-1"}, {"inline": "1", "preview": "1"},
    {"name": "../../etc/passwd"}, {"mode": "x" * 5000},
]
PATH_VALUES = ["1", "0", str(2**70), "%00", "..%2f", "x" * 300]
USERS = ["anonymous", "13800000002", "staff:reviewer1", "staff:supervisor", "staff:admin"]


class Run:
    def __init__(self, base: str) -> None:
        parts = urllib.parse.urlsplit(base)
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or not (
                host == "localhost" or host.startswith("127.") or host == "::1"):
            raise SystemExit("only a server of ours on loopback (http or https)")
        self.base, self.requests, self.failed, self.broken = base.rstrip("/"), 0, [], []

    def opener(self):
        return urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def hit(self, opener, method: str, url: str, data: dict | None = None) -> str:
        self.requests += 1
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(  # noqa: S310 - http(s) on loopback, checked above
            self.base + url, data=body, method=method)
        try:
            with opener.open(request, timeout=30) as response:
                return response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            if error.code >= 500:
                self.failed.append([method, url[:160], error.code])
            return error.read().decode("utf-8", "replace")
        except OSError as error:
            self.broken.append([method, url[:160], type(error).__name__])
            return ""

    def login(self, who: str, password: str):
        opener = self.opener()
        if who.startswith("staff:"):
            html = self.hit(opener, "GET", "/admin/login")
            self.hit(opener, "POST", "/admin/login", {
                "csrf_token": token(html), "username": who[6:], "password": password})
        elif who != "anonymous":
            html = self.hit(opener, "GET", "/login?mode=password")
            self.hit(opener, "POST", "/login?mode=password", {
                "csrf_token": token(html), "pw-mobile": who, "pw-password": password,
                "pw-submit": "1"})
        return opener


def token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return match.group(1) if match else ""


def routes():
    from talentadmin import create_app

    app = create_app()
    rules = app.url_map.iter_rules()
    gets, posts = set(), set()
    for rule in rules:
        if rule.endpoint.endswith("static") or "logout" in rule.rule:
            continue
        if "GET" in rule.methods:
            gets.add((rule.rule, tuple(sorted(rule.arguments))))
        if "POST" in rule.methods and not rule.arguments:
            posts.add(rule.rule)
    return sorted(gets), sorted(posts)


def urls(gets):
    for rule, arguments in gets:
        for value in PATH_VALUES if arguments else [None]:
            path = rule
            for name in arguments:
                path = re.sub(rf"<[^>]*{name}>", value, path)
            yield path
            for extra in HOSTILE_ARGS:
                yield path + "?" + urllib.parse.urlencode(extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--password-file", default="instance/demo-password")
    args = parser.parse_args()
    password = Path(args.password_file).read_text().strip()
    run = Run(args.base)
    gets, posts = routes()
    for who in USERS:
        opener = run.login(who, password)
        for url in urls(gets):
            run.hit(opener, "GET", url)
        for url in posts:
            for data in ({"x": "\x00"}, {"csrf_token": "bad", "id": str(2**70), "url": "//e"}):
                run.hit(opener, "POST", url, data)
    print(json.dumps({"requests": run.requests, "answers_5xx": len(run.failed),
                      "broken_connections": len(run.broken), "first_5xx": run.failed[:10],
                      "first_broken": run.broken[:3]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
