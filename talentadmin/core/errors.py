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
