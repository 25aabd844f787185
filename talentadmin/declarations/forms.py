"""The declaration form (guide fig. 14 plus 引进依据及条件 and the attachments)."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError

from ..core.fields import DIGITS_MESSAGE, VersionField, required
from ..core.forms import Form
from ..core.timeutil import local_today, to_local, to_utc
from ..core.uploads import collect, keep_field
from ..core.validators import (
    age_on,
    id_birth_date,
    id_gender,
    validate_id_number,
    whole_number,
)
from ..reference.models import items

MAX_EVIDENCE_FILES = 10  # evidence files per declaration

NONE_HINT = _l("Required. Write 无 (or none) when there is nothing to fill in.")

ID_MESSAGES = {
    "digits": DIGITS_MESSAGE,
    "length": _l("The ID number has 18 characters."),
    "lowercase_x": _l("Write the last character X in capitals."),
    "format": _l("The ID number is 17 digits followed by a digit or X."),
    "birth_date": _l("The birth date in the ID number (characters 7–14) is not a real date."),
    "future": _l("The birth date in the ID number is in the future."),
    "age": _l("The birth date in the ID number gives an age outside working age (16–80)."),
    "check": _l("The last character (check character) does not match: check the number."),
}


class IdNumber:
    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = validate_id_number(field.data.strip())
        except ValueError as error:
            raise ValidationError(str(ID_MESSAGES[str(error)])) from None


def _choices(kind: str) -> list[SelectChoice]:
    return [SelectChoice("", _("Please choose"))] + [
        SelectChoice(item.code, item.name) for item in items(kind)]


class DeclarationForm(Form):
    name = StringField(_l("Name"), validators=[Length(max=64)])
    id_number = StringField(_l("ID card number"), validators=[IdNumber()],
                            render_kw={"maxlength": 18, "autocomplete": "off",
                                       "spellcheck": "false"},
                            description=_l("18 characters; gender and age are taken from it."))
    gender = RadioField(_l("Gender"), choices=[SelectChoice("male", _l("Male")),
                                               SelectChoice("female", _l("Female"))],
                        validate_choice=False)
    age = StringField(_l("Age"), render_kw={"inputmode": "numeric", "maxlength": 3},
                      description=_l("Left empty, it is filled in from the ID number."))
    political_status = SelectField(_l("Political status"), validate_choice=False)
    title = StringField(_l("Professional title"), validators=[Length(max=64)],
                        description=NONE_HINT)
    education = SelectField(_l("Highest education"), validate_choice=False)
    degree = SelectField(_l("Highest degree"), validate_choice=False)
    school = StringField(_l("School of the highest education (degree)"),
                         validators=[Length(max=100)], description=NONE_HINT)
    major = StringField(_l("Major"), validators=[Length(max=100)], description=NONE_HINT)
    condition = SelectField(_l("Introduction basis and condition"), validate_choice=False)
    social_insurance = FileField(
        _l("Beijing social insurance record since January 2020 (PDF)"),
        description=_l("The electronic 北京市社会保险个人权益记录（参保人员缴费信息）, "
                       "from January 2020 to the latest month, downloaded as PDF."),
        render_kw={"accept": ".pdf,application/pdf"})
    social_insurance_keep = keep_field()
    integrity = FileField(
        _l("Integrity statement, signed and sealed (scan)"),
        description=_l("Download the template below, have the legal representative sign it, "
                       "seal it, and upload the scan: PDF, JPG or PNG."))
    integrity_keep = keep_field()
    evidence = MultipleFileField(
        _l("Evidence for the chosen condition"),
        description=_l("One or more files proving the chosen condition, at most %(num)d.",
                       num=MAX_EVIDENCE_FILES))
    evidence_keep = keep_field()
    version = HiddenField()
    form_key = HiddenField()
    save_draft = SubmitField(_l("Save as draft"))
    submit = SubmitField(_l("Submit"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.political_status.choices = _choices("political_status")
        self.education.choices = _choices("education")
        self.degree.choices = _choices("degree")
        self.condition.choices = _choices("condition")
        self.conditions = {item.code: item for item in items("condition")}

    @property
    def submitting(self) -> bool:
        return bool(self.submit.data) and not self.save_draft.data

    def _valid_codes(self, field, kind: str) -> None:
        codes = {choice.value for choice in field.choices if choice.value}
        if field.data and field.data not in codes:
            field.errors = [*field.errors, _("Choose an entry from the list.")]

    def validate_age(self, field) -> None:
        if not (field.data or "").strip():
            return
        try:
            age = whole_number(field.data)  # full-width digits folded
        except ValueError as error:
            raise ValidationError(str(DIGITS_MESSAGE) if str(error) == "digits"
                                  else _("Enter the age as a whole number.")) from None
        if not 0 < age < 150:
            raise ValidationError(_("Enter the age as a whole number."))
        field.data = str(age)

    def check(self, user_id: int, today: date | None = None) -> bool:
        """Validate for a draft (formats only) or a submission (everything required),
        after storing or keeping the files."""
        today = today or local_today()
        ok = self.validate()  # first: validating resets each field's errors
        social = collect(self, "social_insurance", user_id, allowed=("pdf",))
        integrity = collect(self, "integrity", user_id)
        chosen = [f for f in self.evidence.data or [] if getattr(f, "filename", "")]
        if len(chosen) > MAX_EVIDENCE_FILES:
            self.evidence.data = []  # none stored; what was kept before stays kept
        evidence = collect(self, "evidence", user_id, multiple=True)
        if len(chosen) > MAX_EVIDENCE_FILES or len(evidence) > MAX_EVIDENCE_FILES:
            self.evidence.errors = [*self.evidence.errors, _(
                "Upload at most %(num)d files here (%(chosen)d were chosen).",
                num=MAX_EVIDENCE_FILES, chosen=max(len(chosen), len(evidence)))]
        for field, kind in ((self.political_status, "political_status"),
                            (self.education, "education"), (self.degree, "degree"),
                            (self.condition, "condition")):
            self._valid_codes(field, kind)
        number = self.id_number.data if not self.id_number.errors else None
        if number:
            born = id_birth_date(number)
            derived_gender, derived_age = id_gender(number), age_on(born, today)
            if self.gender.data and self.gender.data != derived_gender:
                self.gender.errors = [*self.gender.errors,
                                      _("The gender does not match the ID number.")]
            self.gender.data = self.gender.data or derived_gender
            typed_age = (self.age.data or "").strip()
            if typed_age.isascii() and typed_age.isdigit() and int(typed_age) != derived_age:
                self.age.errors = [*self.age.errors, _(
                    "The age does not match the ID number (%(age)d).", age=derived_age)]
            elif not typed_age:
                self.age.data = str(derived_age)
        if self.submitting:
            required_text = ("name", "id_number", "title", "school", "major")
            required_choice = ("political_status", "education", "degree", "condition")
            for name in (*required_text, *required_choice, "gender"):
                if not (self[name].data or "").strip() and not self[name].errors:
                    self[name].errors = [_("This field is required.")]
            for name, held in (("social_insurance", social), ("integrity", integrity),
                               ("evidence", evidence)):
                if not held and not self[name].errors:
                    self[name].errors = [_("Upload this file.")]
        return ok and not self.errors


class LocalDateTimeField(DateTimeLocalField):
    """A time typed and shown in the office's zone; ``data`` is naive UTC, as stored.
    (WTForms' own ``tz=`` attaches the zone with ``replace()``, which gives a pytz zone —
    Flask-Babel's — its local mean time, +08:06 in Shanghai.)"""

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        super().__init__(label, validators, format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                         **kwargs)

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        if self.data is not None:
            self.data = to_utc(self.data)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return to_local(self.data).strftime(self.format[0]) if self.data else ""


class RoundForm(Form):
    name = StringField(_l("Round name"), validators=[Length(min=1, max=100)],
                       description=_l("e.g. 2023年引进人才需求申报"))
    opens_at = LocalDateTimeField(_l("Opens at"), validators=[required()])
    closes_at = LocalDateTimeField(_l("Closes at"), validators=[required()])

    def validate_closes_at(self, field) -> None:
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError(_("The round must close after it opens."))


class DeclarationAdminForm(Form):
    """What an administrator may correct on a submitted declaration (audited).

    The ID number and the attachments stay as the enterprise submitted them."""

    name = StringField(_l("Name"), validators=[required(), Length(max=64)])
    political_status = SelectField(_l("Political status"), validate_choice=False)
    title = StringField(_l("Professional title"), validators=[required(), Length(max=64)])
    education = SelectField(_l("Highest education"), validate_choice=False)
    degree = SelectField(_l("Highest degree"), validate_choice=False)
    school = StringField(_l("School of the highest education (degree)"),
                         validators=[required(), Length(max=100)])
    major = StringField(_l("Major"), validators=[required(), Length(max=100)])
    condition = SelectField(_l("Introduction basis and condition"), validate_choice=False)
    version = VersionField()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, kind in (("political_status", "political_status"),
                           ("education", "education"), ("degree", "degree"),
                           ("condition", "condition")):
            self[name].choices = _choices(kind)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for name in ("political_status", "education", "degree", "condition"):
            codes = {choice.value for choice in self[name].choices if choice.value}
            if self[name].data not in codes:
                self[name].errors = [*self[name].errors, _("Choose an entry from the list.")]
                ok = False
        return ok
