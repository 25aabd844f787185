"""Account forms, one class each: the portal's (login, password, mobile) and the back office's
(staff login, staff accounts, enterprise accounts); validators come from core/validators.py."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, Length, Optional, Regexp, ValidationError

from ..core.forms import Form
from ..core.validators import (
    MobileNumber,
    SmsCodeFormat,
    password_length,
    password_max,
    required,
)
from .models import ROLES


class CaptchaMixin:
    captcha_id = HiddenField()
    captcha = StringField(
        _l("Image code"),
        render_kw={"autocomplete": "off", "maxlength": 8, "autocapitalize": "characters"},
    )


class SmsLoginForm(CaptchaMixin, Form):
    """Mobile + image code + SMS code: a new number registers, a known one logs in."""

    mobile = StringField(
        _l("Mobile number"),
        validators=[required(), MobileNumber()],
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )
    sms_code = StringField(
        _l("SMS code"),
        validators=[SmsCodeFormat()],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6},
    )
    send_code = SubmitField(_l("Get SMS code"))
    submit = SubmitField(_l("Log in / Register"))

    def validate_captcha(self, field) -> None:
        if self.send_code.data and not (field.data or "").strip():
            raise ValidationError(_l("Enter the characters shown in the image."))

    def validate_sms_code(self, field) -> None:
        if not self.send_code.data and not (field.data or "").strip():
            raise ValidationError(_l("Enter the 6-digit code sent to your mobile."))


class PasswordLoginForm(Form):
    mobile = StringField(
        _l("Mobile number"),
        validators=[required(), MobileNumber()],
        render_kw={"inputmode": "tel", "autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[required(), password_max()],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Log in"))


class SetPasswordForm(Form):
    """Set or change the password, proven by the old password or an SMS code."""

    old_password = PasswordField(
        _l("Current password"),
        validators=[Optional(), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
    sms_code = StringField(
        _l("SMS code"),
        validators=[SmsCodeFormat()],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[password_length()],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[EqualTo("new_password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    send_code = SubmitField(_l("Get SMS code"))
    submit = SubmitField(_l("Save password"))

    def validate(self, extra_validators=None) -> bool:
        if self.send_code.data:  # only asking for a code: nothing else to check yet
            return True
        ok = super().validate(extra_validators)
        if not self.new_password.data:
            self.new_password.errors = [*self.new_password.errors, _l("This field is required.")]
            ok = False
        if not (self.old_password.data or (self.sms_code.data or "").strip()):
            self.sms_code.errors = [
                *self.sms_code.errors,
                _l("Enter your current password or an SMS code sent to your mobile."),
            ]
            ok = False
        return ok


class ChangeMobileForm(CaptchaMixin, Form):
    new_mobile = StringField(
        _l("New mobile number"),
        validators=[required(), MobileNumber()],
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )
    sms_code = StringField(
        _l("SMS code sent to the new number"),
        validators=[SmsCodeFormat()],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6},
    )
    send_code = SubmitField(_l("Get SMS code"))
    submit = SubmitField(_l("Change mobile number"))

    validate_captcha = SmsLoginForm.validate_captcha
    validate_sms_code = SmsLoginForm.validate_sms_code


class StaffLoginForm(Form):
    username = StringField(
        _l("Username"), validators=[required(), Length(max=64)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[required(), password_max()],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Log in"))


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class StaffForm(Form):
    """A staff account, as the admin edits it. The password is required on create only."""

    username = StringField(
        _l("Username"),
        validators=[
            required(),
            Length(max=64),
            Regexp(
                r"^[A-Za-z0-9_.-]+$",
                message=_l("Use letters, digits, dot, dash or underscore."),
            ),
        ],
    )
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=64)])
    roles = MultiCheckboxField(
        _l("Roles"), choices=[SelectChoice(key, label) for key, label in ROLES.items()]
    )
    active = BooleanField(_l("Active"), default=True)
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), password_length()],
        description=_l("Leave empty to keep the current password."),
        render_kw={"autocomplete": "new-password"},
    )

    def validate_roles(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one role."))


class EnterpriseAdminForm(Form):
    """What an admin may change on an enterprise account: switch it off or on."""

    active = BooleanField(
        _l("Active"),
        description=_l("A disabled account can no longer log in; its records are kept."),
    )
