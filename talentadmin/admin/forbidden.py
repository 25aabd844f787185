"""The 403 page: inside the back office, a staff member who opened a page outside their roles
sees the back-office layout with a way back to its home page; everyone else, and every
address outside ``/admin``, keeps the portal's error page."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import gettext as _

from .base import current_staff


def forbidden(error):
    title = _("Access denied")
    message = _("Your account does not have the rights to open this page.")
    admin = next(iter(current_app.extensions.get("admin") or ()), None)
    if admin is not None and current_staff() is not None and (
            request.path == admin.url or request.path.startswith(admin.url.rstrip("/") + "/")):
        return admin.index_view.render("admin/forbidden.html", title=title,
                                       message=message), 403
    return render_template("errors.html", status=403, title=title, message=message), 403
