"""Admins edit the portal's policy, conditions, process and support texts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect
from wtforms import TextAreaField

from ..admin.base import RoleModelView
from ..core import audit

FIELDS = ("title_zh", "body_zh", "title_en", "body_en")


class PageTextView(RoleModelView):
    read_roles = edit_roles = ("admin",)
    allow_create = False
    column_list = ("key", "title_zh", "title_en", "updated_at")
    column_details_list = ("key", *FIELDS, "updated_at")
    form_columns = FIELDS
    form_overrides = {"body_zh": TextAreaField, "body_en": TextAreaField}
    form_widget_args = {"body_zh": {"rows": 8}, "body_en": {"rows": 8}}
    column_labels = {
        "key": _l("Key"),
        "title_zh": _l("Title (Chinese)"),
        "body_zh": _l("Text (Chinese)"),
        "title_en": _l("Title (English)"),
        "body_en": _l("Text (English)"),
        "updated_at": _l("Updated"),
    }

    def on_model_change(self, form, model, is_created):
        state = inspect(model)
        changed = [name for name in FIELDS if state.attrs[name].history.has_changes()]
        audit.record("page_text.update", target=model, detail={"key": model.key,
                                                                "fields": changed})
