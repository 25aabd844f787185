"""Serving stored files, after checking who asks."""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user

from ..extensions import db
from . import audit, storage
from .models import Attachment

bp = Blueprint("files", __name__)


def may_read(attachment: Attachment) -> bool:
    kind = getattr(current_user, "kind", None)
    if kind == "staff":
        return bool(current_user.role_names)
    if kind == "enterprise":
        return attachment.enterprise_user_id == current_user.id
    return False


@bp.route("/files/<int:attachment_id>")
def download(attachment_id: int):
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or not may_read(attachment):
        if current_user.is_authenticated:
            audit.record("file.denied", outcome="failure", detail={"attachment": attachment_id})
        abort(404)
    inline = request.args.get("inline") == "1" and getattr(current_user, "kind", "") == "staff"
    name = request.args.get("name") or f"attachment-{attachment.id}"
    return storage.send_attachment(attachment, name, inline=inline)
