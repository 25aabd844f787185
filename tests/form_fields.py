"""Comparing the portal's and the admin's form of one record, field by field.

A field both forms carry must be the same field: the same kind, label, description and
widget attributes, and the same validators — by type and by what they say and check (their
message, bounds, …). ``differences`` lists every way two instantiated forms differ on the
fields they share; an empty list is the promise "one form, two views"."""

from __future__ import annotations

from typing import Any


def plain(value: Any) -> Any:
    """A comparable form of a validator's or field's setting (lazy strings as text)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if callable(value) and not hasattr(value, "__html__"):
        return getattr(value, "__qualname__", type(value).__qualname__)
    return str(value)


def validator_signature(validator) -> tuple:
    """A validator's type and its settings, the instance's and the class's
    (``InputRequired.message``, ``Length.max``, ``CreditCode.messages``…)."""
    settings = {name: plain(getattr(validator, name)) for name in dir(validator)
                if not name.startswith("_") and not callable(getattr(validator, name))}
    return type(validator).__module__, type(validator).__qualname__, settings


def field_signature(field) -> dict:
    return {
        "type": type(field).__qualname__,
        "label": str(field.label.text),
        "description": str(field.description),
        "render_kw": plain(field.render_kw or {}),
        "validators": [validator_signature(v) for v in field.validators],
        "flags": sorted(name for name in vars(field.flags)),
    }


def differences(portal_form, admin_form) -> list[str]:
    """Every field the two forms share, and how it differs (empty: none does)."""
    found = []
    for field in admin_form:
        if field.name not in portal_form:
            continue
        mine, theirs = field_signature(portal_form[field.name]), field_signature(field)
        for key in mine:
            if mine[key] != theirs[key]:
                found.append(f"{field.name}.{key}: portal {mine[key]!r}, admin {theirs[key]!r}")
    return found


def names(form) -> set[str]:
    return {field.name for field in form} - {"csrf_token"}
