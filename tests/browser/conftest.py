"""Browser fixtures: the session ``app`` served by a live server, driven by a real Chromium.

The live server serves the very ``app`` object of ``tests/conftest.py``, so the database is
the one the autouse cleanup empties after each test. Only the tests marked ``browser`` use
these fixtures; for their duration they point ``SERVER_NAME`` at the live server and turn on
``CAPTCHA_TEST_MODE`` (the image code ``PASSED`` is accepted), then restore both, so the
other tests keep their ``localhost`` setting.

Chromium is the Debian package at ``/usr/bin/chromium`` (Playwright's own browser download
is never used); without it, or without the ``playwright`` package, the tests are skipped.

Screenshots: a test calls ``shot("step-name")`` after each step; the files go to
``test-artifacts/<test id>/NN-step-name.png`` and are kept only when the test fails (or
always, with ``TALENTADMIN_KEEP_SCREENSHOTS=1``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("TALENTADMIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the item, so a fixture knows if the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def live_server(app):
    """``(base_url, port)`` of a threaded werkzeug server running the session ``app``."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}", server.port
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def live_url(app, live_server):
    """The live server's base URL, with the app set up for a browser for this test only."""
    base_url, port = live_server
    saved = {key: app.config[key] for key in ("SERVER_NAME", "CAPTCHA_TEST_MODE")}
    app.config.update(SERVER_NAME=f"127.0.0.1:{port}", CAPTCHA_TEST_MODE=True)
    try:
        yield base_url
    finally:
        app.config.update(saved)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (install the Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="the playwright package is not installed")
    sync_api.expect.set_options(timeout=10_000)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Contexts:
    """Opens browser contexts (one per user) for a test and closes them afterwards."""

    def __init__(self, browser, base_url: str) -> None:
        self.browser, self.base_url, self.opened = browser, base_url, []

    def new_page(self):
        context = self.browser.new_context(base_url=self.base_url, locale="zh-CN",
                                           viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(15_000)
        context.set_default_navigation_timeout(30_000)
        self.opened.append(context)
        return context.new_page()

    def close(self) -> None:
        for context in self.opened:
            context.close()


@pytest.fixture
def contexts(browser, live_url):
    opened = Contexts(browser, live_url)
    yield opened
    opened.close()


@pytest.fixture
def page(contexts):
    """The enterprise user's page, in its own browser context."""
    return contexts.new_page()


class Shots:
    """Numbered full-page screenshots of every open page, one folder per test."""

    def __init__(self, folder: Path, contexts: Contexts) -> None:
        self.folder, self.contexts, self.count = folder, contexts, 0

    def __call__(self, step: str, page=None) -> None:
        self.count += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        pages = [page] if page is not None else [
            p for context in self.contexts.opened for p in context.pages]
        for n, target in enumerate(pages):
            suffix = f"-{n}" if len(pages) > 1 else ""
            target.screenshot(path=str(self.folder / f"{self.count:02d}-{step}{suffix}.png"),
                              full_page=True)


@pytest.fixture
def shot(request, contexts):
    test_id = request.node.nodeid.split("::", 1)[-1]  # test_x[zh_Hans_CN]
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_id).strip("_")
    shutil.rmtree(folder, ignore_errors=True)
    shots = Shots(folder, contexts)
    yield shots
    failed = any(getattr(request.node, f"rep_{when}", None) is not None
                 and getattr(request.node, f"rep_{when}").failed for when in ("setup", "call"))
    if failed:
        with contextlib.suppress(Exception):  # a broken page must not hide the failure
            shots("failure")  # the state the test stopped in
    elif not os.environ.get("TALENTADMIN_KEEP_SCREENSHOTS"):
        shutil.rmtree(folder, ignore_errors=True)
