"""Admins edit the portal's texts (policy, conditions, process, support, FAQ, the footer), its
notices and policy documents, and upload the operation guide it offers."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import get_timezone, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, inspect
from sqlalchemy.exc import IntegrityError
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired

from ..admin.base import RoleModelView, RoleView
from ..core import audit, storage
from ..core.bodylimit import body_limit
from ..core.errors import FieldError
from ..core.fields import VersionField
from ..core.params import record_ids
from ..core.timeutil import local_formatter, local_today
from ..extensions import db
from . import operations
from .models import FOOTER_KEYS, ITEM_KINDS, PAGE_KEYS, PortalItem

FIELDS = ("title_zh", "body_zh", "title_en", "body_en")
ITEM_FIELDS = ("kind", *FIELDS, "published_on", "published")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class PageTextView(RoleModelView):
    read_roles = edit_roles = ("admin",)
    allow_create = False
    column_list = ("key", "title_zh", "title_en", "updated_at")
    column_details_list = ("key", *FIELDS, "updated_at")
    form_columns = FIELDS
    form_overrides = {"body_zh": TextAreaField, "body_en": TextAreaField}
    form_widget_args = {"body_zh": {"rows": 8}, "body_en": {"rows": 8}}
    # The texts are checked in validate_form: a footer text may be left empty (not shown).
    form_optional_types = (db.Boolean, Text)
    column_labels = {
        "key": _l("Key"),
        "title_zh": _l("Title (Chinese)"),
        "body_zh": _l("Text (Chinese)"),
        "title_en": _l("Title (English)"),
        "body_en": _l("Text (English)"),
        "updated_at": _l("Updated"),
    }
    # What each text is for, in the reader's language (the key is for the code).
    column_formatters = {"key": lambda _v, _c, model, _n: str(PAGE_KEYS.get(model.key,
                                                                            model.key))}
    column_formatters_detail = column_formatters
    column_descriptions = {
        "body_zh": _l("The footer's texts (sponsor, website identification code, ICP and "
                      "public security record numbers) may be left empty: they are then not "
                      "shown. An English text left empty shows the Chinese one."),
    }

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        form.page_key = getattr(obj, "key", None)
        if form.page_key == "integrity_statement":  # what the portal fills in
            for name in ("body_zh", "body_en"):
                getattr(form, name).description = _(
                    "{unit}, {name}, {id_number} and {round} are replaced by the unit's name, "
                    "the person's name, the ID number (shown to the unit only) and the round; "
                    "a text without them is shown as written.")
        return form

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        if getattr(form, "page_key", None) in FOOTER_KEYS:
            return valid
        for name in ("body_zh", "body_en"):
            field = getattr(form, name, None)
            if field is not None and request.method == "POST" and not (field.data or "").strip():
                field.errors = [*field.errors, _("This field is required.")]
                valid = False
        return valid

    def on_model_change(self, form, model, is_created):
        state = inspect(model)
        changed = [name for name in FIELDS if state.attrs[name].history.has_changes()]
        audit.record("page_text.update", target=model, detail={"key": model.key,
                                                                "fields": changed})


class PortalItemView(RoleModelView):
    """通知公告 and 政策文件: admins add and edit them in both languages and publish or withdraw
    them (one by one in the form, or several at once); nothing is deleted."""

    read_roles = create_roles = edit_roles = ("admin",)
    action_roles = {"publish": ("admin",), "unpublish": ("admin",)}
    column_list = ("kind", "title_zh", "title_en", "published_on", "published", "updated_at")
    column_details_list = ("kind", *FIELDS, "published_on", "published", "created_at",
                           "updated_at")
    column_default_sort = [("published_on", True), ("id", True)]
    column_searchable_list = ("title_zh", "title_en")
    column_filters = (
        FilterEqual(PortalItem.kind, _l("Section"), options=list(ITEM_KINDS.items())),
        "published",
        "published_on",
    )
    column_formatters = {"kind": lambda _v, _c, model, _n: model.kind_label}
    form_columns = (*ITEM_FIELDS, "opened_version")
    form_overrides = {"kind": SelectField, "body_zh": TextAreaField, "body_en": TextAreaField}
    form_widget_args = {"body_zh": {"rows": 12}, "body_en": {"rows": 12}}
    column_labels = {
        "kind": _l("Section"),
        "title_zh": _l("Title (Chinese)"),
        "body_zh": _l("Text (Chinese)"),
        "title_en": _l("Title (English)"),
        "body_en": _l("Text (English)"),
        "published_on": _l("Date"),
        "published": _l("Published"),
        "created_at": _l("Created"),
        "updated_at": _l("Updated"),
    }
    column_descriptions = {
        "published_on": _l("The date the portal shows; lists are newest first."),
        "published": _l("Only published items are shown on the portal."),
    }

    form_args = {
        "kind": {"choices": [SelectChoice(key, label) for key, label in ITEM_KINDS.items()],
                 "validators": [InputRequired()]},
        "published_on": {"default": local_today},
        # Spaces alone are no title and no text.
        **{name: {"filters": [_strip], "validators": [DataRequired()]} for name in FIELDS},
    }

    form_extra_fields = {"opened_version": VersionField()}

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if request.method != "POST" and obj is not None:
            form.opened_version.data = str(obj.version)
        return form

    def update_model(self, form, model) -> bool:
        """Save an edit unless the item changed since the form was opened (another admin's
        save, or a publish from the grid): then the form is shown again, as typed, with
        the reason beside the title."""
        stale = FieldError("title_zh", _("This item was changed elsewhere since you opened "
                                         "it. Reload the page to see the current version, "
                                         "then make your change again."))

        def save() -> bool:
            if str(model.version) != (form.opened_version.data or ""):
                raise stale
            form.populate_obj(model)
            self.on_model_change(form, model, False)
            db.session.flush()
            return True

        if self.save_form(form, save, stale=stale) is False:
            return False
        self.after_model_change(form, model, False)
        return True

    def on_model_change(self, form, model, is_created):
        state = inspect(model)
        changed = [name for name in ITEM_FIELDS if state.attrs[name].history.has_changes()]
        db.session.flush()  # a new item's id, for the audit event
        audit.record("portal_item.create" if is_created else "portal_item.update",
                     target=model, detail={"kind": model.kind, "fields": changed})

    def _set_published(self, ids, published: bool) -> None:
        items = self.get_query().filter(PortalItem.id.in_(record_ids(ids))).all()
        changed = sum(operations.set_published(item, published) for item in items)
        db.session.commit()
        skipped = len(ids) - changed
        if published:
            flash(ngettext("%(num)d item published.", "%(num)d items published.", changed),
                  "success")
        else:
            flash(ngettext("%(num)d item withdrawn.", "%(num)d items withdrawn.", changed),
                  "success")
        if skipped:
            flash(ngettext("%(num)d item was already so and was skipped.",
                           "%(num)d items were already so and were skipped.", skipped), "info")

    @action("publish", _l("Publish"), _l("Publish the selected items on the portal?"))
    def action_publish(self, ids):
        self._set_published(ids, True)

    @action("unpublish", _l("Withdraw"), _l("Withdraw the selected items from the portal?"))
    def action_unpublish(self, ids):
        self._set_published(ids, False)


class GuideFileView(RoleView):
    """The operation guide (操作指南) the portal offers for download: a PDF an admin uploads;
    a new upload replaces the one offered. Uploads are audited."""

    roles = ("admin",)

    @expose("/")
    def index(self):
        return self.render("admin/portal_guide.html", guide=operations.portal_file(),
                           max_mb=operations.GUIDE_MAX_BYTES >> 20,
                           when=local_formatter(get_timezone(), "%Y-%m-%d %H:%M"))

    @expose("/upload", methods=("POST",))
    @body_limit(operations.GUIDE_MAX_BYTES + 64 * 1024)
    def upload(self):
        try:
            operations.replace_file(request.files.get("file"))
            db.session.commit()
        except storage.UploadError as error:
            db.session.rollback()
            flash(storage.upload_error_message(error.reason, ("pdf",)), "error")
            return redirect(url_for(".index"))
        except IntegrityError:  # another admin's first upload committed meanwhile
            db.session.rollback()
            flash(_("Another upload was saved at the same time. Check the file offered and "
                    "upload again if needed."), "error")
            return redirect(url_for(".index"))
        flash(_("The operation guide was uploaded; the portal offers it now."), "success")
        return redirect(url_for(".index"))

    @expose("/download")
    def download(self):
        guide = operations.portal_file()
        if guide is None:
            return redirect(url_for(".index"))
        return storage.send_attachment(guide.attachment, _("Operation guide"))
