"""The base of every form in the project (portal and admin)."""

from __future__ import annotations

from flask_wtf import FlaskForm


class Form(FlaskForm):
    """A CSRF-protected form whose error messages are plain strings.

    Validators declared at import time carry lazily translated messages; Flask-Admin's
    templates only print errors that are ``str``, so they are resolved after validation.
    """

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            field.errors = [str(error) for error in field.errors]
        self.form_errors = [str(error) for error in self.form_errors]
        return valid
