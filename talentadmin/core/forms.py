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

from .validators import multi_line, single_line, strip_controls  # noqa: F401  (re-exported)


def _unchecked(form, extra_validators=()) -> bool:
    """The ``validate`` of a read-only field: it shows the record, nobody typed it."""
    return True


class Form(FlaskForm):
    """A CSRF-protected form whose text input is clean and whose error messages are plain
    strings.

    Every text or choice field (``StringField`` and its kinds: password, hidden, text area…;
    ``SelectField``, ``RadioField``, ``SelectMultipleField``) gets a first filter that drops
    control characters, so validators, operations and the database never see a NUL; a
    ``TextAreaField`` keeps its line feeds and tabs.

    Validators declared at import time carry lazily translated messages; Flask-Admin's
    templates only print errors that are ``str``, so they are resolved after validation.

    ``read_only`` (``{field: attribute of the record}``) names the fields a subclass shows
    but does not take: the field is drawn disabled with the record's ``attribute``, what is
    posted for it is ignored and it is not validated (the admin's form of a record shows
    what the enterprise submitted and staff may not change).
    """

    read_only: dict[str, str] = {}

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

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs) -> None:
        super().process(formdata, obj, data, extra_filters, **kwargs)
        for name, attribute in self.read_only.items():
            field = self[name]
            field.process(None, getattr(obj, attribute, None) if obj is not None else None)
            field.render_kw = {**(field.render_kw or {}), "disabled": True}
            field.validate = _unchecked

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
