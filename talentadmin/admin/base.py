"""The role-aware base view every admin grid is built on."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model import filters, typefmt
from flask_admin.model.form import converts
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.validators import NumberRange

from ..core.forms import Form
from ..core.params import INT_MAX, optional_id, page_number
from ..extensions import db

ALL_STAFF = ("admin", "initial_reviewer", "second_reviewer", "supervisor")


def current_staff():
    """The logged-in staff user, or ``None`` (anonymous or an enterprise session)."""
    if current_user.is_authenticated and getattr(current_user, "kind", None) == "staff":
        return current_user
    return None


def deny(name: str | None = None):
    """Anonymous users and enterprise sessions go to the staff login; staff get 403."""
    if current_staff() is None:
        flash(_("Log in with a staff account to use the back office."), "warning")
        return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
    return abort(403)


def has_role(*roles: str) -> bool:
    """Whether the logged-in staff user holds one of ``roles``."""
    staff = current_staff()
    return staff is not None and staff.has_role(*roles)


class RoleView(BaseView):
    """A plain back-office page (Flask-Admin ``BaseView``) for the staff holding one of
    ``roles``; others are sent to the staff login or refused (:func:`deny`)."""

    roles: tuple[str, ...] = ("admin",)

    def is_accessible(self) -> bool:
        return has_role(*self.roles)

    def inaccessible_callback(self, name, **kwargs):
        return deny(name)


def ref_options(kind: str):
    """Filter choices from a reference list, read per request (the lists are editable)."""

    def options():
        from flask import has_app_context

        from ..reference.models import names

        return names(kind) if has_app_context() else []

    return options


def _local_datetime(view, value, name=None):
    """Local time to the minute; grids print many, so no Babel pattern formatting and one
    converter per request."""
    from flask import g
    from flask_babel import get_timezone

    from ..core.timeutil import local_formatter

    local = g.get("local_minutes")
    if local is None:
        local = g.local_minutes = local_formatter(get_timezone(), "%Y-%m-%d %H:%M")
    return local(value)


DATE_FORMATTERS = {**typefmt.BASE_FORMATTERS, datetime: _local_datetime}
DETAIL_FORMATTERS = {**typefmt.DETAIL_FORMATTERS, datetime: _local_datetime}


class LocalTimeFilter:
    """A datetime filter whose value is typed in the office's zone (as the grid shows
    times) and compared in UTC (as they are stored)."""

    def clean(self, value):
        from ..core.timeutil import to_utc

        cleaned = super().clean(value)
        return [to_utc(v) for v in cleaned] if isinstance(cleaned, list) else to_utc(cleaned)


def _local(cls):
    if not issubclass(cls, (filters.BaseDateTimeFilter, filters.BaseDateTimeBetweenFilter)):
        return cls
    return type(cls.__name__, (LocalTimeFilter, cls), {})


LocalDateTimeBetweenFilter = _local(sqla_filters.DateTimeBetweenFilter)


def _bounded(cls):
    """An integer filter that takes only what an INTEGER column holds: another number is
    invalid, and Flask-Admin ignores the filter (it reached the database before)."""

    def clean(self, value):
        cleaned = cls.clean(self, value)
        if any(not -INT_MAX - 1 <= n <= INT_MAX
               for n in (cleaned if isinstance(cleaned, list) else [cleaned])):
            raise ValueError("out of range")
        return cleaned

    return type(cls.__name__, (cls,), {"clean": clean})


IntEqualFilter = _bounded(sqla_filters.IntEqualFilter)


class LocalFilterConverter(sqla_filters.FilterConverter):
    """Flask-Admin's filters for a column named in ``column_filters``, datetimes local."""

    datetime_filters = tuple(_local(cls) for cls in sqla_filters.FilterConverter.datetime_filters)
    int_filters = tuple(_bounded(cls) for cls in sqla_filters.FilterConverter.int_filters)


class BoundedModelConverter(AdminModelConverter):
    """Flask-Admin's form fields for model columns; an integer field takes only what an
    INTEGER column holds (a number past it failed in the database, after validation)."""

    @converts("Integer")
    def handle_integer_types(self, column, field_args, **extra):
        field_args["validators"].append(NumberRange(min=-INT_MAX - 1, max=INT_MAX))
        return super().handle_integer_types(column, field_args, **extra)


class RoleModelView(ModelView):
    """A grid whose rights follow the viewer's roles.

    ``read_roles`` may list and view; ``create_roles``, ``edit_roles`` and
    ``delete_roles`` may change (each also needs the class switch ``allow_*``);
    ``action_roles`` maps an action name to the roles allowed to run it.
    ``scope_query()`` narrows what a viewer may see and applies to the list, the
    count, and ``get_one()`` (details, edit, actions) alike.
    """

    read_roles: tuple[str, ...] = ("admin",)
    create_roles: tuple[str, ...] = ("admin",)
    edit_roles: tuple[str, ...] = ("admin",)
    delete_roles: tuple[str, ...] = ()
    action_roles: dict[str, tuple[str, ...]] = {}
    allow_create = allow_edit = True
    allow_delete = False

    form_base_class = Form  # CSRF on every admin form, delete and action
    model_form_converter = BoundedModelConverter  # integers the database can hold
    can_export = False  # the stock export would bypass masking, audit and streaming
    can_view_details = True
    page_size = 20
    can_set_page_size = True
    column_type_formatters = DATE_FORMATTERS  # local time, to the minute
    column_type_formatters_detail = DETAIL_FORMATTERS
    filter_converter = LocalFilterConverter()  # datetime filters typed in local time
    page_size_options = (20, 50, 100)

    def __init__(self, model, **kwargs) -> None:
        super().__init__(model, db, **kwargs)

    # --- who may do what ---------------------------------------------------------------
    @staticmethod
    def has_roles(roles: tuple[str, ...]) -> bool:
        staff = current_staff()
        return staff is not None and staff.has_role(*roles)

    def is_accessible(self) -> bool:
        return self.has_roles(self.read_roles)

    def inaccessible_callback(self, name, **kwargs):
        return deny(name)

    @property
    def can_create(self) -> bool:
        return self.allow_create and self.has_roles(self.create_roles)

    @property
    def can_edit(self) -> bool:
        return self.allow_edit and self.has_roles(self.edit_roles)

    @property
    def can_delete(self) -> bool:
        return self.allow_delete and self.has_roles(self.delete_roles)

    def is_action_allowed(self, name: str) -> bool:
        if name == "delete":
            return self.can_delete
        roles = self.action_roles.get(name)
        return roles is not None and self.has_roles(roles) and super().is_action_allowed(name)

    dynamic_filters = False  # True where filter choices come from editable lists

    def filter_groups(self, groups: dict | None) -> dict | None:
        """Flask-Admin's filter groups (as its list template and filter script take them)
        with the choices of editable lists read again, in the viewer's language: Flask-Admin
        reads a filter's choices once, when the view is made. Through the public filter
        API: ``get_filters``, ``get_options``."""
        if not groups:
            return groups
        fresh = {}
        for label, items in groups.items():
            fresh[label] = [{**item, "options": self.filter_options(item["index"])}
                            if callable(self.list_filters[item["index"]].options) else item
                            for item in items]
        return fresh

    def filter_options(self, index: int) -> list | None:
        options = self.list_filters[index].get_options(self)
        return [(key, str(text)) for key, text in options] if options else None

    @cached_property
    def list_filters(self) -> list:
        """The filter objects, in the order the ``flt<n>_<index>`` arguments count them
        (``get_filters()``, built once per view)."""
        return list(self.get_filters() or ())

    def list_filter_args(self) -> list[tuple[int, str, str]]:
        """The active filters of this request as ``get_list`` takes them — ``(index, name,
        value)`` in the order of their ``flt<n>_`` position — read from the query string
        through the public filter API. A value its filter refuses raises ``ValueError``
        (a page of the grid says so and ignores it; a change to every matching row must
        not)."""
        by_arg = {self.get_filter_arg(i, flt): (i, flt) for i, flt in enumerate(self.list_filters)}
        found = []
        for key, value in request.args.items():
            position, _sep, arg = key[3:].partition("_")
            if not key.startswith("flt") or arg not in by_arg:
                continue
            index, flt = by_arg[arg]
            if not flt.validate(value):
                raise ValueError(f"invalid value for the filter {arg}")
            found.append((position, (index, str(flt.name), value)))
        return [item for _position, item in sorted(found, key=lambda pair: pair[0])]

    def render(self, template, **kwargs):
        """The list page's filter groups, fresh where ``dynamic_filters`` says so."""
        if self.dynamic_filters and kwargs.get("filter_groups"):
            kwargs["filter_groups"] = self.filter_groups(kwargs["filter_groups"])
        return super().render(template, **kwargs)

    # --- what may be seen ----------------------------------------------------------------
    def scope_query(self, query):
        return query

    def get_query(self):
        return self.scope_query(super().get_query())

    def get_count_query(self):
        return self.scope_query(super().get_count_query())

    def get_one(self, id):
        pk = optional_id(id)
        if pk is None:
            return None
        return self.get_query().filter(self.model.id == pk).one_or_none()

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        """Flask-Admin's list, from a page number that exists (``?page=-1`` and
        ``?page=10**30`` reached the database as an OFFSET)."""
        return super().get_list(page_number(page), sort_column, sort_desc, search, filters,
                                execute, page_size)

    # --- the save of a create or edit form -------------------------------------------------
    @staticmethod
    def save_form(form, save, *, stale=None):
        """Run ``save()`` (an ``operations.py`` call) for a create or edit form and commit;
        return its result. On a ``FieldError`` — or, given ``stale`` (a ``FieldError``), on a
        save over a record changed meanwhile — roll back, put the message beside its field
        and return ``False`` (Flask-Admin then shows the form again, as typed)."""
        from sqlalchemy.orm.exc import StaleDataError

        from ..core.errors import FieldError

        try:
            result = save()
            db.session.commit()
        except FieldError as error:
            db.session.rollback()
            error.attach(form)
            return False
        except StaleDataError:
            if stale is None:
                raise
            db.session.rollback()
            stale.attach(form)
            return False
        return result

    # --- one decision from a detail page ------------------------------------------------
    def run_decision(self, decide, back: str, refused: str):
        """Run ``decide()`` (an operation returning whether it acted); commit or roll back
        and say so. Returns the redirect to ``back`` on a refusal, else ``None``."""
        from ..core.errors import FieldError

        try:
            done = decide()
        except FieldError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(back)
        if not done:
            db.session.rollback()
            flash(refused, "error")
            return redirect(back)
        db.session.commit()
        flash(_("Decision saved."), "success")
        return None

    # --- a record's file, for staff ---------------------------------------------------
    @staticmethod
    def send_record_file(attachment, stem: str, record=None):
        """Download it (``单位-…-材料名称`` + the stored type's extension), or show it:
        ``?inline=1`` sandboxed, ``?preview=1`` as a picture (a PDF's first page). The
        caller found ``record`` (which holds the file) through the view's scoped query;
        every read is audited."""
        from flask import request as current_request

        from ..core import audit, storage

        way = ("preview" if current_request.args.get("preview") == "1" else
               "inline" if current_request.args.get("inline") == "1" else "download")
        audit.record("file.read", target=record, detail={"attachment": attachment.id,
                                                         "as": way})
        if way == "preview":
            return storage.send_preview(attachment)
        return storage.send_attachment(attachment, stem, inline=way == "inline")
