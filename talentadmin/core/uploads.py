"""File fields that survive a refused submit.

A form with files is often refused for another field. Each file field ``X`` has a hidden
companion ``X_keep`` holding the ids of what was already stored for it: a new file
replaces them, an empty input keeps them, and the ids are only honoured when the
attachment belongs to the same account. So nothing uploaded is lost on a refused
submit, and nobody can attach another account's file by editing the hidden field.

Each file field states its own limits in its ``render_kw`` — ``data-max-bytes`` (a file;
:data:`storage.MAX_BYTES` when absent) and, for a multiple field, ``data-max-files`` — where
:func:`collect` reads them and so does the page's script. :func:`request_cap` sizes a form's
request body from them, so files each within the limit written beside their field are never
refused together by the request cap.
"""

from __future__ import annotations

from sqlalchemy import select
from wtforms import HiddenField
from wtforms.fields import FileField

from ..extensions import db
from . import storage
from .models import Attachment
from .params import record_ids

# What a form's request carries besides its files: the typed fields (Flask reads at most
# MAX_FORM_MEMORY_SIZE, 500 KB, of each) and each part's multipart headers.
TEXT_MARGIN = 512 * 1024


def keep_field() -> HiddenField:
    return HiddenField()


def limits(field) -> tuple[int, int]:
    """``(bytes per file, files)`` a file field (bound or unbound) takes: its ``render_kw``'s
    ``data-max-bytes`` and ``data-max-files``, by default one file of
    :data:`storage.MAX_BYTES` (a multiple field should state its count)."""
    render_kw = (field.render_kw if hasattr(field, "render_kw")
                 else field.kwargs.get("render_kw")) or {}
    return (int(render_kw.get("data-max-bytes", storage.MAX_BYTES)),
            int(render_kw.get("data-max-files", 1)))


def request_cap(form) -> int:
    """The request body a form may send: every file field at its limits plus
    :data:`TEXT_MARGIN`. ``form`` is a form class, or a form made without form data when its
    fields depend on the request. For :func:`.bodylimit.body_limit`."""
    if hasattr(form, "_fields"):
        fields = [field for field in form if isinstance(field, FileField)]
    else:
        fields = [unbound for name in dir(form)
                  if isinstance(getattr(unbound := getattr(form, name, None), "field_class",
                                        None), type)
                  and issubclass(unbound.field_class, FileField)]
    total = TEXT_MARGIN
    for field in fields:
        per_file, files = limits(field)
        total += per_file * files
    return total


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
    max_bytes, _files = limits(field)
    if sent:
        stored = []
        for upload in sent:
            try:
                stored.append(storage.save_upload(upload, allowed=allowed, max_bytes=max_bytes,
                                                  enterprise_user_id=user_id))
            except storage.UploadError as error:
                field.errors = [*field.errors, _refusal(error.reason, allowed, max_bytes)]
        if stored:
            held = stored
    keep.data = ",".join(str(a.id) for a in held)
    form.kept = getattr(form, "kept", {})
    form.kept[name] = held
    return held


def _refusal(reason: str, allowed, max_bytes: int) -> str:
    if reason == "too_large" and max_bytes != storage.MAX_BYTES:
        from flask_babel import gettext as _

        return _("The file is larger than %(size)s MB. Upload a smaller scan or photo.",
                 size=f"{max_bytes / 1024 / 1024:g}")
    return storage.upload_error_message(reason, allowed)


def preset(form, name: str, attachments: list[Attachment]) -> None:
    """Show ``attachments`` as already uploaded (editing a saved record)."""
    form[name + "_keep"].data = ",".join(str(a.id) for a in attachments)
    form.kept = getattr(form, "kept", {})
    form.kept[name] = list(attachments)
