"""Personal data at rest: AES-GCM encryption and an HMAC blind index.

One 32-byte master key (``TALENTADMIN_DATA_KEY``, base64, or generated into
``instance/data_key`` on first run, mode 0600 — back it up with the database: without
it the encrypted ID numbers cannot be read). Two keys are derived from it with HKDF:
one encrypts, one computes the blind index used for duplicate checks and exact search.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag as DecryptError  # noqa: F401 - re-exported
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

NONCE = 12


def _master_key() -> bytes:
    configured = current_app.config.get("DATA_KEY")
    if configured:
        key = base64.b64decode(configured)
    else:
        path = Path(current_app.instance_path) / "data_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(base64.b64encode(secrets.token_bytes(32)).decode())
        key = base64.b64decode(path.read_text().strip())
    if len(key) != 32:
        raise RuntimeError("the data key must be 32 bytes (base64)")
    return key


@lru_cache(maxsize=8)
def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def _key(purpose: bytes) -> bytes:
    return _derive(_master_key(), purpose)


def encrypt(text: str, context: bytes = b"id_number") -> bytes:
    nonce = secrets.token_bytes(NONCE)
    return nonce + AESGCM(_key(b"talentadmin encryption")).encrypt(nonce, text.encode(), context)


def decrypt(blob: bytes, context: bytes = b"id_number") -> str:
    nonce, sealed = blob[:NONCE], blob[NONCE:]
    return AESGCM(_key(b"talentadmin encryption")).decrypt(nonce, sealed, context).decode()


def decrypter(context: bytes = b"id_number"):
    """A decrypt function bound to one cipher object (for exports over many rows)."""
    cipher = AESGCM(_key(b"talentadmin encryption"))

    def decrypt_one(blob: bytes) -> str:
        return cipher.decrypt(blob[:NONCE], blob[NONCE:], context).decode()

    return decrypt_one


def blind_index(text: str) -> str:
    """A keyed hash: equal inputs match, the value itself cannot be recovered or guessed
    without the key."""
    return hmac.new(_key(b"talentadmin blind index"), text.encode(), hashlib.sha256).hexdigest()
