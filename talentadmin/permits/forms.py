"""The business permission form: one class, the portal's; the admin's is a subclass."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from ..accounts.forms import MultiCheckboxField
from ..core.fields import VersionField
from ..core.forms import Form
from ..core.timeutil import local_today
from ..core.uploads import keep_field
from ..core.validators import MobileNumber, Money, required
from ..reference.models import items

INTRO_MAX = 2000


def tax_years(today: date | None = None) -> list[int]:
    """The last three complete years, newest first."""
    year = (today or local_today()).year
    return [year - 1, year - 2, year - 3]


def _choices(kind: str) -> list[SelectChoice]:
    return [SelectChoice("", _("Please choose"))] + [
        SelectChoice(item.code, item.name) for item in items(kind)]


class PermitForm(Form):
    """The business permission as the enterprise applies (portal) and as an administrator
    corrects it (:class:`PermitAdminForm`, the same fields less the evidence). Choices come
    from the editable reference lists, read when the form is made."""

    qualifications = MultiCheckboxField(
        _l("Unit qualifications"),
        description=_l("Choose every qualification the unit holds and upload its certificate "
                       "below. Choose 其他 (Other) when none applies."),
    )
    registered_district = SelectField(_l("District of registration"), validators=[required()])
    tax_district = SelectField(_l("District of tax payment"), validators=[required()])
    field = SelectField(_l("Field of business"), validators=[required()])
    contact_name = StringField(_l("Unit contact person"),
                               validators=[required(), Length(max=64)])
    contact_mobile = StringField(_l("Contact mobile"), validators=[required(), MobileNumber()],
                                 render_kw={"inputmode": "tel"})
    tax_1 = StringField(validators=[required(), Money()], render_kw={"inputmode": "decimal"})
    tax_2 = StringField(validators=[required(), Money()], render_kw={"inputmode": "decimal"})
    tax_3 = StringField(validators=[required(), Money()], render_kw={"inputmode": "decimal"})
    tax_file_1 = FileField()
    tax_file_1_keep = keep_field()
    tax_file_2 = FileField()
    tax_file_2_keep = keep_field()
    tax_file_3 = FileField()
    tax_file_3_keep = keep_field()
    intro = TextAreaField(
        _l("Company profile"),
        validators=[required(), Length(max=INTRO_MAX, message=_l(
            "The company profile is at most %(max)d characters.", max=INTRO_MAX))],
        description=_l("Main business, scale, achievements; at most 2000 characters."),
        render_kw={"rows": 6, "maxlength": INTRO_MAX},
    )
    submit = SubmitField(_l("Submit"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("registered_district", "tax_district"):
            self[name].choices = _choices("district")
        self.field.choices = _choices("field")
        if "qualifications" in self:
            self.qualification_items = items("qualification")
            self.qualifications.choices = [SelectChoice(i.code, i.name)
                                           for i in self.qualification_items]
        if "tax_1" in self:
            self.years = tax_years()
            for n, year in enumerate(self.years, start=1):
                self[f"tax_{n}"].label.text = _("Tax paid in %(year)d (10,000 yuan)", year=year)
                self[f"tax_file_{n}"].label.text = _("Tax payment certificate %(year)d",
                                                     year=year)

    def validate_qualifications(self, field) -> None:
        from wtforms.validators import ValidationError

        if not field.data:
            raise ValidationError(_("Choose at least one qualification (or 其他 / Other)."))


class PermitAdminForm(PermitForm):
    """What an administrator may correct on a submitted revision (audited): the portal's
    fields, less what the enterprise attested with its files — qualifications, taxes and
    the files stay as submitted — plus the version the form was opened at."""

    qualifications = None
    tax_1 = tax_2 = tax_3 = None
    tax_file_1 = tax_file_1_keep = tax_file_2 = tax_file_2_keep = None
    tax_file_3 = tax_file_3_keep = None
    submit = None  # Flask-Admin draws its own buttons
    version = VersionField()


def permit_form(*args, **kwargs) -> PermitForm:
    """The portal's form: :class:`PermitForm` with one certificate field per qualification
    that needs one (the qualification list is editable, so the class is made per request)."""
    attrs = {}
    for item in items("qualification"):
        if item.needs_evidence:
            attrs[f"cert_{item.code}"] = FileField(item.evidence)
            attrs[f"cert_{item.code}_keep"] = keep_field()
    return type("PermitForm", (PermitForm,), attrs)(*args, **kwargs)


def collect_files(form, user_id: int) -> bool:
    """Store or keep every file of the form; check each required one is there.

    A qualification that needs a certificate must have one; all three tax certificates
    are required. Returns ``False`` when a file is missing or was refused.
    """
    from ..core.uploads import collect

    ok = True
    needed = {item.code for item in form.qualification_items if item.needs_evidence}
    for item in form.qualification_items:
        if item.code in needed:
            name = f"cert_{item.code}"
            held = collect(form, name, user_id)
            if form[name].errors:
                ok = False
            elif item.code in (form.qualifications.data or []) and not held:
                form[name].errors = [_("Upload the %(evidence)s for the chosen qualification "
                                       "%(name)s.", evidence=item.evidence, name=item.name)]
                ok = False
    for n in (1, 2, 3):
        name = f"tax_file_{n}"
        held = collect(form, name, user_id)
        if form[name].errors:
            ok = False
        elif not held:
            form[name].errors = [_("Upload the tax payment certificate of %(year)d.",
                                   year=form.years[n - 1])]
            ok = False
    return ok
