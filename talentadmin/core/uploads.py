"""File fields that survive a refused submit.

A form with files is often refused for another field. Each file field ``X`` has a hidden
companion ``X_keep`` holding the ids of what was already stored for it: a new file
replaces them, an empty input keeps them, and the ids are only honoured when the
attachment belongs to the same account. So nothing uploaded is lost on a refused
submit, and nobody can attach another account's file by editing the hidden field.
"""

from __future__ import annotations

from sqlalchemy import select
from wtforms import HiddenField

from ..extensions import db
from . import storage
from .models import Attachment
from .params import record_ids


def keep_field() -> HiddenField:
    return HiddenField()


def _ids(raw) -> list[int]:
    """The ids a ``_keep`` field carries; anything else in it is ignored."""
    return record_ids(raw) if isinstance(raw, str) else []


def _owned(ids: list[int], user_id: int) -> list[Attachment]:
    if not ids:
        return []
    rows = {a.id: a for a in db.session.execute(
        select(Attachment).where(Attachment.id.in_(ids),
                                 Attachment.enterprise_user_id == user_id)).scalars()}
    return [rows[i] for i in ids if i in rows]


def collect(form, name: str, user_id: int, *, allowed=("jpg", "png", "pdf"),
            multiple: bool = False) -> list[Attachment]:
    """Store what was sent in ``form[name]`` (or keep what was stored before) and return
    the attachments now held by the field. Refusals are added to the field's errors."""
    field, keep = form[name], form[name + "_keep"]
    sent = field.data if multiple else [field.data]
    sent = [f for f in (sent or []) if f is not None and getattr(f, "filename", "")]
    held = _owned(_ids(keep.data), user_id)
    if sent:
        stored = []
        for upload in sent:
            try:
                stored.append(storage.save_upload(upload, allowed=allowed,
                                                  enterprise_user_id=user_id))
            except storage.UploadError as error:
                field.errors = [*field.errors, storage.upload_error_message(error.reason,
                                                                              allowed)]
        if stored:
            held = stored
    keep.data = ",".join(str(a.id) for a in held)
    form.kept = getattr(form, "kept", {})
    form.kept[name] = held
    return held


def preset(form, name: str, attachments: list[Attachment]) -> None:
    """Show ``attachments`` as already uploaded (editing a saved record)."""
    form[name + "_keep"].data = ",".join(str(a.id) for a in attachments)
    form.kept = getattr(form, "kept", {})
    form.kept[name] = list(attachments)
