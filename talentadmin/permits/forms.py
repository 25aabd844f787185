"""The business permission form: one class, the portal's; the admin's is a subclass."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from ..accounts.forms import MultiCheckboxField
from ..core import storage
from ..core.fields import VersionField
from ..core.forms import Form
from ..core.timeutil import local_today, to_local
from ..core.uploads import keep_field
from ..core.validators import ContactNumber, Money, required
from ..reference.models import items

INTRO_MAX = 2000


MAX_FILES = 12  # per qualification and per tax year: twelve monthly receipts
# Each file's limit and count, written on the field: the page refuses a file over them as it
# is chosen (static/file-limits.js) and the request cap is their sum (core.uploads).
FILE_LIMITS = {"data-max-bytes": storage.MAX_BYTES, "data-max-files": MAX_FILES}


def tax_years(today: date | None = None, round_=None) -> list[int]:
    """The three complete years before the round the unit applies for (``round_``, see
    :func:`applied_round`), newest first: a round opening in 2023 asks for 2022, 2021 and
    2020, whatever today's date. Without a round, the three years before ``today`` (the
    office's date)."""
    year = to_local(round_.opens_at).year if round_ is not None else (
        today or local_today()).year
    return [year - 1, year - 2, year - 3]


def applied_round():
    """The round a unit applies for: the one open now, else the next to open, else the last
    that opened; None when there is none."""
    from sqlalchemy import select

    from ..core.timeutil import utcnow
    from ..declarations.models import Round
    from ..extensions import db

    now = utcnow()
    for query in (
        select(Round).where(Round.opens_at <= now, Round.closes_at > now)
        .order_by(Round.opens_at.desc()),
        select(Round).where(Round.opens_at > now).order_by(Round.opens_at),
        select(Round).where(Round.opens_at <= now).order_by(Round.opens_at.desc()),
    ):
        found = db.session.execute(query.limit(1)).scalar_one_or_none()
        if found is not None:
            return found
    return None


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
    contact_mobile = StringField(
        _l("Contact number"), validators=[required(), ContactNumber()],
        description=_l("A mobile, or a landline with its area code and, if any, its "
                       "extension."),
        render_kw={"inputmode": "tel", "maxlength": 32})
    tax_1 = StringField(validators=[required(), Money()], render_kw={"inputmode": "decimal"})
    tax_2 = StringField(validators=[required(), Money()], render_kw={"inputmode": "decimal"})
    tax_3 = StringField(validators=[required(), Money()], render_kw={"inputmode": "decimal"})
    tax_file_1 = MultipleFileField(render_kw=FILE_LIMITS)
    tax_file_1_keep = keep_field()
    tax_file_2 = MultipleFileField(render_kw=FILE_LIMITS)
    tax_file_2_keep = keep_field()
    tax_file_3 = MultipleFileField(render_kw=FILE_LIMITS)
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
        self.max_files = MAX_FILES
        if "tax_1" in self:
            self.round = applied_round()
            self.years = tax_years(round_=self.round)
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
            attrs[f"cert_{item.code}"] = MultipleFileField(
                item.evidence, render_kw=FILE_LIMITS)
            attrs[f"cert_{item.code}_keep"] = keep_field()
    return type("PermitForm", (PermitForm,), attrs)(*args, **kwargs)


def collect_files(form, user_id: int) -> bool:
    """Store or keep every file of the form; check each required one is there.

    A qualification chosen that needs a certificate must have at least one file, each tax
    year at least one certificate (monthly or quarterly receipts), at most :data:`MAX_FILES`
    a field. The files of a qualification not chosen are ignored: not stored, not kept.
    Returns ``False`` when a file is missing or was refused.
    """
    from ..core.uploads import collect

    ok = True
    chosen = set(form.qualifications.data or [])
    for item in form.qualification_items:
        if not item.needs_evidence:
            continue
        name = f"cert_{item.code}"
        if item.code not in chosen:
            form[name].data = []
            form[name + "_keep"].data = ""
            form.kept = getattr(form, "kept", {})
            form.kept[name] = []
            continue
        held = _collect(form, name, user_id, collect)
        if form[name].errors:
            ok = False
        elif not held:
            form[name].errors = [_("Upload the %(evidence)s for the chosen qualification "
                                   "%(name)s.", evidence=item.evidence, name=item.name)]
            ok = False
    for n in (1, 2, 3):
        name = f"tax_file_{n}"
        held = _collect(form, name, user_id, collect)
        if form[name].errors:
            ok = False
        elif not held:
            form[name].errors = [_("Upload the tax payment certificate of %(year)d.",
                                   year=form.years[n - 1])]
            ok = False
    return ok


def _collect(form, name: str, user_id: int, collect) -> list:
    """:func:`~talentadmin.core.uploads.collect` of several files, refused whole (nothing
    stored) when more are sent than the field's ``data-max-files``."""
    most = int(form[name].render_kw["data-max-files"])
    sent = [f for f in (form[name].data or []) if f is not None and getattr(f, "filename", "")]
    if len(sent) > most:
        form[name].errors = [*form[name].errors, _(
            "Upload at most %(max)d files here (you chose %(count)d).", max=most,
            count=len(sent))]
        form[name].data = []
    return collect(form, name, user_id, multiple=True)
