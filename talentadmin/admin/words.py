"""Flask-Admin's own words as the office says them (批量操作, 每页 20 条, 筛选, 暂无记录).

Flask-Admin translates its templates and messages with its shipped catalog, merged after
the one ``Admin(translations_path=...)`` names (ours: ``translations/<locale>/LC_MESSAGES/
admin.po``), so on a string both have Flask-Admin's wins and ours could only add strings it
lacks. :func:`prefer_ours` runs before each back-office request and merges our catalog into
the translations Flask-Admin's domain uses for the request's language, once per process and
language (Flask-Babel keeps them, per language, for the life of the process): ours then wins.
Public API only: Flask-Babel's ``Domain.get_translations`` and Babel's
``Translations.merge``.
"""

from __future__ import annotations

from babel.support import Translations
from flask import current_app, request
from flask_admin import babel as admin_babel
from flask_babel import get_locale


def prefer_ours() -> None:
    """``before_request``: our admin catalog over Flask-Admin's, in the back office."""
    if not request.path.startswith("/admin"):
        return
    translations = admin_babel.domain.get_translations()
    if getattr(translations, "talentadmin_words", False) or not hasattr(translations, "merge"):
        return
    translations.merge(Translations.load(current_app.config["BABEL_TRANSLATION_DIRECTORIES"],
                                         [str(get_locale() or "")], "admin"))
    translations.talentadmin_words = True
