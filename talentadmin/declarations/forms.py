"""The declaration form (guide fig. 14 plus 引进依据及条件 and the attachments): one class,
:class:`DeclarationForm`, used by the portal; the admin's :class:`DeclarationAdminForm` is
a subclass (the same fields and validators; the attachments left out, the ID number and
what is derived from it read-only). Every validator comes from ``core.validators``."""

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

from ..core.fields import VersionField
from ..core.forms import Form
from ..core.storage import MAX_BYTES
from ..core.timeutil import local_today, to_local, to_utc
from ..core.uploads import collect, keep_field
from ..core.validators import (
    REQUIRED_MESSAGE,
    AgreesWithIdNumber,
    IdNumber,
    KnownChoice,
    RequiredToSubmit,
    WholeNumber,
    age_on,
    id_birth_date,
    id_gender,
    required,
)
from ..reference.models import items

MAX_EVIDENCE_FILES = 10  # evidence files per declaration

NONE_HINT = _l("Required. Write 无 (or none) when there is nothing to fill in.")
AGE_MESSAGE = _l("Enter the age as a whole number.")
CHOICES = {"political_status": "political_status", "education": "education",
           "degree": "degree", "condition": "condition"}  # field: reference list
DERIVED = ("gender", "age")  # filled in from the ID number unless typed
FILES = ("social_insurance", "integrity", "evidence")


def _choices(kind: str) -> list[SelectChoice]:
    return [SelectChoice("", _("Please choose"))] + [
        SelectChoice(item.code, item.name) for item in items(kind)]


def _text(label, maximum: int, **kwargs) -> StringField:
    return StringField(label, validators=[RequiredToSubmit(), Length(max=maximum)], **kwargs)


def _choice(label) -> SelectField:
    return SelectField(label, validators=[RequiredToSubmit(), KnownChoice()],
                       validate_choice=False)


class DeclarationForm(Form):
    """A declaration as the enterprise fills it in: a draft keeps whatever is typed (formats
    checked), a submission needs every field and file (``submitting``)."""

    name = _text(_l("Name"), 64)
    id_number = StringField(_l("ID card number"), validators=[RequiredToSubmit(), IdNumber()],
                            render_kw={"maxlength": 18, "autocomplete": "off",
                                       "spellcheck": "false"},
                            description=_l("18 characters; gender and age are taken from it."))
    gender = RadioField(_l("Gender"), choices=[SelectChoice("male", _l("Male")),
                                               SelectChoice("female", _l("Female"))],
                        validators=[KnownChoice(), AgreesWithIdNumber("gender"),
                                    RequiredToSubmit()],
                        validate_choice=False)
    age = StringField(_l("Age"), validators=[WholeNumber(1, 149, AGE_MESSAGE),
                                             AgreesWithIdNumber("age")],
                      render_kw={"inputmode": "numeric", "maxlength": 3},
                      description=_l("Left empty, it is filled in from the ID number."))
    political_status = _choice(_l("Political status"))
    title = _text(_l("Professional title"), 64, description=NONE_HINT)
    education = _choice(_l("Highest education"))
    degree = _choice(_l("Highest degree"))
    school = _text(_l("School of the highest education (degree)"), 100, description=NONE_HINT)
    major = _text(_l("Major"), 100, description=NONE_HINT)
    condition = _choice(_l("Introduction basis and condition"))
    social_insurance = FileField(
        _l("Beijing social insurance record since January 2020 (PDF)"),
        description=_l("The electronic 北京市社会保险个人权益记录（参保人员缴费信息）, "
                       "from January 2020 to the latest month, downloaded as PDF."),
        render_kw={"accept": ".pdf,application/pdf", "data-max-bytes": MAX_BYTES})
    social_insurance_keep = keep_field()
    integrity = FileField(
        _l("Integrity statement, signed and sealed (scan)"),
        description=_l("Download the template below, have the legal representative sign it, "
                       "seal it, and upload the scan: PDF, JPG or PNG."),
        render_kw={"data-max-bytes": MAX_BYTES})
    integrity_keep = keep_field()
    evidence = MultipleFileField(
        _l("Evidence for the chosen condition"),
        description=_l("One or more files proving the chosen condition, at most %(num)d.",
                       num=MAX_EVIDENCE_FILES),
        render_kw={"data-max-bytes": MAX_BYTES, "data-max-files": MAX_EVIDENCE_FILES})
    evidence_keep = keep_field()
    # What the page filled in from the ID number (server or script): a posted value equal to
    # it was not typed, so it follows the current ID number instead of contradicting it.
    gender_derived = HiddenField()
    age_derived = HiddenField()
    version = VersionField()
    form_key = HiddenField()
    save_draft = SubmitField(_l("Save as draft"))
    submit = SubmitField(_l("Submit"))

    today: date | None = None  # the date ages are reckoned on (the office's today)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, kind in CHOICES.items():
            self[name].choices = _choices(kind)
        self.conditions = {item.code: item for item in items("condition")}
        for field in self:  # the red * of guide fig. 14: needed to submit (a draft may wait)
            if any(isinstance(v, RequiredToSubmit) for v in field.validators) or (
                    field.name in (*DERIVED, *FILES)):
                field.flags.required_to_submit = True

    def derive(self, name: str) -> str | None:
        """What ``name`` (gender or age) is by the ID number field's value, when valid."""
        number = self.id_number
        if number.errors or not number.data:
            return None
        try:
            if name == "gender":
                return id_gender(number.data)
            return str(age_on(id_birth_date(number.data), self.today or local_today()))
        except ValueError:
            return None

    def mark_derived(self) -> None:
        """Remember which of gender and age show what the ID number gives (the page sends
        it back, so they follow the ID number when it is corrected)."""
        for name in DERIVED:
            value = str(self[name].data or "").strip()
            self[f"{name}_derived"].data = value if value and value == self.derive(
                name) else ""

    def _forget_derived(self) -> None:
        """A gender or age that is what the page filled in was not typed: left empty, it is
        derived again from the ID number as it is now."""
        for name in DERIVED:
            marker = (self[f"{name}_derived"].data or "").strip()
            if marker and str(self[name].data or "").strip() == marker:
                self[name].data = None if name == "gender" else ""

    @property
    def submitting(self) -> bool:
        return bool(self.submit.data) and not self.save_draft.data

    def check(self, user_id: int, today: date | None = None) -> bool:
        """Validate for a draft (formats only) or a submission (everything required),
        after storing or keeping the files."""
        self.today = today or local_today()
        self._forget_derived()
        ok = self.validate()  # first: validating resets each field's errors
        if self.id_number.errors and self.gender.errors == [str(REQUIRED_MESSAGE)]:
            self.gender.errors = []  # it comes from the ID number, whose error says it all
        self.mark_derived()
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
        if self.submitting:
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


class DeclarationAdminForm(DeclarationForm):
    """What an administrator may correct on a submitted declaration (audited): the portal's
    form and validators, every field required. The attachments (and the portal's buttons)
    are left out and the ID number — with the gender and age taken from it — is shown
    masked and read-only: they stay as the enterprise submitted them."""

    read_only = {"id_number": "id_masked", "gender": "gender", "age": "age"}
    social_insurance = social_insurance_keep = integrity = integrity_keep = None
    evidence = evidence_keep = gender_derived = age_derived = None
    form_key = save_draft = submit = None  # Flask-Admin draws its own buttons
    submitting = True  # the declaration was submitted: nothing may be emptied

    @property
    def corrections(self) -> list[str]:
        """The fields an administrator may change (what ``admin_update`` copies)."""
        return [field.name for field in self
                if field.name not in self.read_only and field.name not in ("csrf_token",
                                                                           "version")]
