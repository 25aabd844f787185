"""Both catalogs are complete: every string in the code and templates is translated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set:
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-k", "ngettext:1,2", "--no-location",
         "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        return {message.id for message in read_po(fh) if message.id}


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_catalog_is_complete_and_not_fuzzy(extracted, locale):
    with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, f"{locale}: fuzzy entry {message.id!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        translated[message.id] = all(strings)
    missing = sorted(str(m) for m in extracted if not translated.get(m))
    assert not missing, f"{locale} lacks {len(missing)} translations: {missing[:10]}"


def test_the_chinese_folder_is_named_zh_hans_cn():
    assert (ROOT / "translations" / "zh_Hans_CN").is_dir()
    assert not (ROOT / "translations" / "zh_CN").exists()


def test_portal_defaults_to_chinese_and_switches_to_english(client):
    from .conftest import csrf_in

    html = client.get("/").get_data(as_text=True)
    assert "人才服务" in html and 'lang="zh-Hans"' in html
    response = client.post("/language/en", data={"csrf_token": csrf_in(html), "next": "/support"})
    assert response.status_code == 302 and response.headers["Location"] == "/support"
    assert "lang=en" in response.headers["Set-Cookie"]
    html = client.get("/").get_data(as_text=True)
    assert "Talent services" in html and 'lang="en"' in html and "人才服务" not in html
    page = client.get("/services/talent-introduction").get_data(as_text=True)
    assert "Policy basis" in page  # the stored page texts switch language too


def test_unknown_language_is_404(client):
    from .conftest import csrf_in

    token = csrf_in(client.get("/").get_data(as_text=True))
    assert client.post("/language/fr", data={"csrf_token": token}).status_code == 404
