"""Previews rendered off the request: the picture of an image or of a PDF's first page that
staff (and the enterprise, on its licence's confirm page) look at is rendered by a worker once
the upload commits, so that the first page to show it finds it ready. Without a task queue it
is rendered the first time a page asks for it (:func:`talentadmin.core.storage.preview_path`,
which a worker's render and a page's never duplicate: same content, same file)."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from ..extensions import db

log = logging.getLogger(__name__)


def after_upload(attachment_id: int) -> None:
    """Render the preview of attachment ``attachment_id`` in a worker after the commit."""
    if current_app.extensions.get("celery") is None:
        return  # rendered on first view, in the page's request
    from . import after_commit

    after_commit(render, attachment_id)


@shared_task(name="talentadmin.jobs.previews.render")
def render(attachment_id: int) -> bool:
    """Render (or find) the preview; ``False`` when the attachment is gone or unreadable."""
    from ..core import storage
    from ..core.models import Attachment

    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        return False
    try:
        storage.preview_path(attachment)
    except Exception:  # a page asking for it renders it then, and says what went wrong
        log.exception("the preview of attachment %s could not be rendered", attachment_id)
        return False
    return True
