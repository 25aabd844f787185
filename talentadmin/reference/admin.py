"""Admins maintain each reference list in its own grid."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..admin.base import ALL_STAFF, RoleModelView
from .models import ReferenceItem


class ReferenceItemView(RoleModelView):
    """One list (``kind``). Entries are retired (``active`` off), never deleted: saved
    records keep pointing at their codes."""

    read_roles = ALL_STAFF
    create_roles = edit_roles = ("admin",)
    column_list = ("position", "code", "name_zh", "name_en", "needs_evidence", "evidence_zh",
                   "active")
    column_default_sort = ("position", False)
    column_searchable_list = ("code", "name_zh", "name_en")
    column_filters = ("active", "needs_evidence")
    form_columns = ("code", "name_zh", "name_en", "needs_evidence", "evidence_zh", "evidence_en",
                    "position", "active")
    column_labels = {
        "position": _l("Order"), "code": _l("Code"), "name_zh": _l("Name (Chinese)"),
        "name_en": _l("Name (English)"), "needs_evidence": _l("Needs evidence"),
        "evidence_zh": _l("Evidence (Chinese)"), "evidence_en": _l("Evidence (English)"),
        "active": _l("Active"),
    }

    def __init__(self, kind: str, **kwargs) -> None:
        self.kind = kind
        super().__init__(ReferenceItem, **kwargs)

    def scope_query(self, query):
        return query.filter(ReferenceItem.kind == self.kind)

    def on_model_change(self, form, model, is_created):
        from ..core import audit
        from .models import forget

        model.kind = self.kind
        forget()
        audit.record("reference.create" if is_created else "reference.update", target=model,
                     detail={"kind": self.kind, "code": model.code})


class ReasonTemplateView(RoleModelView):
    """Reusable rejection reasons: admins write them, reviewers pick them."""

    read_roles = ALL_STAFF
    create_roles = edit_roles = ("admin",)
    column_list = ("position", "text", "active")
    column_default_sort = ("position", False)
    form_columns = ("text", "position", "active")
    column_labels = {"position": _l("Order"), "text": _l("Reason"), "active": _l("Active")}

    def on_model_change(self, form, model, is_created):
        from ..core import audit

        audit.record("reason_template.create" if is_created else "reason_template.update",
                     target=model)
