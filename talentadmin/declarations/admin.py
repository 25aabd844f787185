"""Admin grids for rounds (declarations' review grids come with the back office)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..admin.base import ALL_STAFF, RoleModelView
from . import operations
from .forms import RoundForm


class RoundView(RoleModelView):
    read_roles = ALL_STAFF
    create_roles = edit_roles = ("admin",)
    form = RoundForm
    column_list = ("name", "opens_at", "closes_at", "created_at")
    column_default_sort = ("opens_at", True)
    column_sortable_list = ("name", "opens_at", "closes_at")
    column_labels = {"name": _l("Round name"), "opens_at": _l("Opens at"),
                     "closes_at": _l("Closes at"), "created_at": _l("Created")}

    def _save(self, form, model):
        return self.save_form(form, lambda: operations.save_round(
            model, name=form.name.data.strip(), opens_at=form.opens_at.data,
            closes_at=form.closes_at.data))

    def create_model(self, form):
        return self._save(form, None)

    def update_model(self, form, model):
        return self._save(form, model) is not False
