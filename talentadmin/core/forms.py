"""The base of every form in the project (portal and admin)."""

from __future__ import annotations

import functools

from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms.fields import (
    FileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from .validators import strip_controls


def single_line(value):
    """A field's text without control characters (a list: each item)."""
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, list):
        return [single_line(item) for item in value]
    return value


def multi_line(value):
    """A text area's text without control characters but the line feed and the tab."""
    return strip_controls(value, multiline=True) if isinstance(value, str) else value


class Form(FlaskForm):
    """A CSRF-protected form whose text input is clean and whose error messages are plain
    strings.

    Every text or choice field (``StringField`` and its kinds: password, hidden, text area…;
    ``SelectField``, ``RadioField``, ``SelectMultipleField``) gets a first filter that drops
    control characters, so validators, operations and the database never see a NUL; a
    ``TextAreaField`` keeps its line feeds and tabs.

    Validators declared at import time carry lazily translated messages; Flask-Admin's
    templates only print errors that are ``str``, so they are resolved after validation.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            """Files go to file fields only, and text to the others: a file sent for a
            text field, or a number, list or object in a JSON body, is dropped (WTForms
            would hand the field that object as its data). Flask-WTF and Flask-Admin both
            mix the request's files into the form data; Flask-WTF reads JSON bodies."""
            formdata = super().wrap_formdata(form, formdata)
            if not hasattr(formdata, "lists"):
                return formdata
            file_fields = {field.name for field in form if isinstance(field, FileField)}
            data = MultiDict()
            for name, values in formdata.lists():
                kind = FileStorage if name in file_fields else str
                values = [value for value in values if isinstance(value, kind)]
                if values:
                    data.setlist(name, values)
            return data

        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            if isinstance(field, TextAreaField):
                field.filters = (multi_line, *field.filters)
            elif isinstance(field, StringField | SelectField | SelectMultipleField):
                field.filters = (single_line, *field.filters)
            return field

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
