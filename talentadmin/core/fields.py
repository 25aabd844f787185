"""Form fields of our own. The validators live in ``core.validators``; the names formerly
defined here are imported from there (``from .fields import MobileNumber`` keeps working)."""

from __future__ import annotations

from wtforms import HiddenField
from wtforms.utils import unset_value

from .validators import (  # noqa: F401  (re-exported for the forms that import them from here)
    DIGITS_MESSAGE,
    PASSWORD_MAX,
    PASSWORD_MIN,
    MobileNumber,
    Money,
    SmsCodeFormat,
    password_length,
    password_max,
    required,
)


class VersionField(HiddenField):
    """The version of the record the form was opened at (compare-and-set on save).

    Flask-Admin builds an edit form from the record on every request, so a POST without
    the field would carry the current version and pass as fresh: posted without it, the
    version is ``None`` (refused as stale)."""

    def process(self, formdata, data=unset_value, extra_filters=None) -> None:
        super().process(formdata, data, extra_filters)
        if formdata is not None and self.name not in formdata:
            self.data = None
