"""The base of every form in the project (portal and admin)."""

from __future__ import annotations

import functools

from flask_wtf import FlaskForm


class Form(FlaskForm):
    """A CSRF-protected form whose error messages are plain strings.

    Validators declared at import time carry lazily translated messages; Flask-Admin's
    templates only print errors that are ``str``, so they are resolved after validation.
    """

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            # Flask-WTF reads WTForms' catalog from disk on every request; once per language
            # is enough.
            from flask_babel import get_locale

            return _wtforms_translations(str(get_locale()))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            field.errors = [str(error) for error in field.errors]
        self.form_errors = [str(error) for error in self.form_errors]
        return valid


@functools.lru_cache(maxsize=8)
def _wtforms_translations(locale: str):
    from babel import support
    from wtforms.i18n import messages_path

    return support.Translations.load(messages_path(), [locale], domain="wtforms")
