"""The error an operation raises to put a translated message beside a form field."""


class FieldError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def attach(self, form) -> None:
        """Show the message beside ``form.<field>`` (or as a form-level error)."""
        field = getattr(form, self.field, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, self.message]
        else:
            form.form_errors.append(self.message)


def too_large(error):
    """The page of a form's request over its cap (``request.max_content_length``, which
    :mod:`.bodylimit` sizes to the form's files): it names the limit, says nothing was saved
    and leads back to the form. Register it on the blueprints of forms with files."""
    from flask import current_app, render_template, request
    from flask_babel import gettext as _

    limit = request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"]
    size = f"{limit / 1024 / 1024:.0f}"
    message = _("The files sent together are larger than %(size)s MB, the most this form "
                "takes at once. Nothing was saved. Go back to the form (your browser's Back "
                "button keeps what you typed) and choose smaller files, each within the "
                "limit written beside its field.", size=size)
    back = request.path if request.method == "POST" else None
    return render_template("errors.html", status=413, title=_("Files too large"),
                           message=message, back_url=back,
                           back_label=_("Back to the form")), 413
