"""The back office's forms of the two account procedures (``transfer.py``): a new mobile
number, or the account a unit moves to; each with a reason and an evidence file."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..core.forms import Form
from ..core.storage import MAX_BYTES
from ..core.validators import REQUIRED_MESSAGE, MobileNumber, required
from ..core.workflow import REASON_MAX


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ProcedureMixin:
    reason = TextAreaField(
        _l("Reason"), filters=[_strip],
        validators=[DataRequired(message=REQUIRED_MESSAGE), Length(max=REASON_MAX)],
        description=_l("Sent to the account by SMS and kept in the audit log."),
        render_kw={"rows": 3, "maxlength": REASON_MAX})
    evidence = FileField(
        _l("Evidence (the unit's signed and sealed letter)"),
        description=_l("PDF, JPG or PNG. Kept with the audit record; the enterprise does not "
                       "see it."),
        render_kw={"accept": ".pdf,.jpg,.jpeg,.png", "data-max-bytes": MAX_BYTES})


class MobileChangeForm(ProcedureMixin, Form):
    new_mobile = StringField(
        _l("New mobile number"), validators=[required(), MobileNumber()],
        render_kw={"inputmode": "tel", "autocomplete": "off"})


class UnitMoveForm(ProcedureMixin, Form):
    target_mobile = StringField(
        _l("Mobile number of the account the unit moves to"),
        validators=[required(), MobileNumber()],
        description=_l("The new operator logs in with this number once first."),
        render_kw={"inputmode": "tel", "autocomplete": "off"})


class ConfirmForm(Form):
    """The confirmation page's form: what it showed, signed (``transfer.sign``)."""

    token = HiddenField()
