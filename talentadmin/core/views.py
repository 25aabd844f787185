"""An enterprise's own stored files, by number.

Staff never read a file by its number: they open it from the record that holds it (a
declaration, a permit revision, a certification), through that grid's scoped query, so they
see only the files of records their role may see, and every read is audited
(:meth:`~talentadmin.admin.base.RoleModelView.send_record_file`).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from flask import Blueprint, abort
from flask_login import current_user

from ..extensions import db
from . import audit, storage
from .models import Attachment

bp = Blueprint("files", __name__)


@bp.route("/files/<int:attachment_id>")
def download(attachment_id: int):
    attachment = db.session.get(Attachment, attachment_id)
    if (attachment is None or getattr(current_user, "kind", None) != "enterprise"
            or attachment.enterprise_user_id != current_user.id):
        if current_user.is_authenticated:
            audit.record("file.denied", outcome="failure", detail={"attachment": attachment_id})
        abort(404)
    # The name it was uploaded under, without its folders and its own extension.
    stem = re.sub(r"\.(jpe?g|png|pdf)$", "", PurePosixPath(
        attachment.original_name.replace("\\", "/")).name, flags=re.IGNORECASE)
    return storage.send_attachment(attachment, stem or f"attachment-{attachment.id}")
