"""Certification forms, shared by the portal and the admin."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import Email, Length, ValidationError

from ..core.fields import DIGITS_MESSAGE, required
from ..core.forms import Form
from ..core.validators import validate_credit_code
from ..core.workflow import REASON_MAX


class CreditCode:
    """GB 32100: 18 characters, digits and capitals without I, O, S, V, Z, check character."""

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = validate_credit_code(field.data)
        except ValueError as error:
            raise ValidationError({
                "digits": lambda: str(DIGITS_MESSAGE),
                "length": lambda: _("The unified social credit code has 18 characters."),
                "alphabet": lambda: _(
                    "Use digits and capital letters only; the code never contains "
                    "I, O, S, V or Z."),
                "check": lambda: _(
                    "The last character (check character) does not match the first 17: "
                    "check the code against the licence."),
            }[str(error)]()) from None


class LicenceUploadForm(Form):
    licence = FileField(
        _l("Business licence"),
        description=_l("A clear photo or scan of the whole licence: JPG, PNG or PDF, "
                       "at most 10 MB."),
        render_kw={"accept": ".jpg,.jpeg,.png,.pdf,image/jpeg,image/png,application/pdf"},
    )
    submit = SubmitField(_l("Upload and recognise"))


class CertificationForm(Form):
    name = StringField(
        _l("Unit name"), validators=[required(), Length(max=200)],
        description=_l("As printed after 名称 on the licence."),
    )
    credit_code = StringField(
        _l("Unified social credit code"), validators=[required(), CreditCode()],
        render_kw={"maxlength": 18, "autocapitalize": "characters", "spellcheck": "false"},
        description=_l("18 characters, as printed on the licence."),
    )
    email = StringField(
        _l("Email"),
        validators=[required(), Length(max=254),
                    Email(message=_l("Enter a valid email address, e.g. hr@example.com."))],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )
    submit = SubmitField(_l("Submit"))


class RejectForm(Form):
    """The reason is checked by the decision itself (``core.workflow.check_reason``), the
    same for every decision path; the form carries the CSRF token and renders the field."""

    reason = TextAreaField(
        _l("Reason"), render_kw={"maxlength": REASON_MAX},
        description=_l("The enterprise sees this reason."),
    )
    submit = SubmitField(_l("Reject"))


class ApproveForm(Form):
    submit = SubmitField(_l("Approve"))
