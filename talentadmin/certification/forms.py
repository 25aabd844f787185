"""Certification forms: the confirm form of the portal, and its subclass for the Flask-Admin
view (name and credit code read-only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import Email, Length

from ..core.forms import Form
from ..core.validators import CreditCode, required


class LicenceUploadForm(Form):
    licence = FileField(
        _l("Business licence"),
        description=_l("A clear photo or scan of the whole licence: JPG, PNG or PDF, "
                       "at most 10 MB."),
        render_kw={"accept": ".jpg,.jpeg,.png,.pdf,image/jpeg,image/png,application/pdf"},
    )
    submit = SubmitField(_l("Upload and recognise"))


class CertificationForm(Form):
    """The unit's name, credit code and email, as the operator confirms them (portal) and as
    an administrator sees and corrects them (:class:`CertificationAdminForm`)."""

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


class CertificationAdminForm(CertificationForm):
    """The portal's form for an administrator: the name and credit code — what the licence
    shows and the decision rests on — are read-only (``form_widget_args`` of the view) and
    never saved; the email may be corrected. ``email_seen``: the email the form was opened
    with, so a correction made on a stale page is refused."""

    submit = None  # Flask-Admin draws its own buttons
    email_seen = HiddenField()
