"""One certification form: the admin's is the portal's confirm form, name and code read-only."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import Length

from talentadmin.certification.admin import CertificationView
from talentadmin.certification.forms import CertificationAdminForm, CertificationForm
from talentadmin.core.fields import required

from ..form_fields import differences, names


def forms(app, admin_class=CertificationAdminForm):
    with app.test_request_context():
        return CertificationForm(meta={"csrf": False}), admin_class(meta={"csrf": False})


def test_the_admin_form_is_the_portal_form(app):
    assert issubclass(CertificationAdminForm, CertificationForm)
    assert CertificationView.form is CertificationAdminForm
    portal, admin = forms(app)
    assert differences(portal, admin) == []
    assert names(admin) - {"email_seen"} == names(portal) - {"submit"} == {
        "name", "credit_code", "email"}
    assert set(CertificationView.form_widget_args) == {"name", "credit_code"}  # read-only


def test_the_comparison_catches_a_drift(app):
    class Drifted(CertificationAdminForm):
        credit_code = StringField(CertificationForm.credit_code.args[0],
                                  validators=[required(), Length(max=18)],
                                  render_kw=CertificationForm.credit_code.kwargs["render_kw"],
                                  description=CertificationForm.credit_code.kwargs["description"])

    found = differences(*forms(app, Drifted))
    assert sorted(line.split(":")[0] for line in found) == [
        "credit_code.flags", "credit_code.validators"]  # Length adds a maxlength flag
