"""History keys: what a person copies to find their runs again.

A key is ``owner-signature``: the owner id and an HMAC-SHA256 of it under a random secret that the
database creates once (``Database.key_secret``). Only the server can issue keys (``owner_key``);
a typed key is accepted only when its signature checks (``owner_from_key``), so nobody can pick
an owner such as ``000...0``. Owners saved before keys were signed are not lost:
``python -m lstm_lab runs key OWNER`` prints their signed key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid

from lstm_lab.errors import ConfigError

# A history key: the owner id, a dash, 32 hex digits of HMAC-SHA256(secret, owner id).
KEY_PATTERN = re.compile(r"^([0-9a-z_.]{1,64})-([0-9a-f]{32})$")
KEY_EXAMPLE = "0123456789abcdef0123456789abcdef-0123456789abcdef0123456789abcdef"


def new_owner() -> str:
    """A fresh owner id for a new session: 32 random hex digits (uuid4)."""
    return uuid.uuid4().hex


def owner_key(secret: bytes, owner: str) -> str:
    """The history key of ``owner`` under ``secret``: ``owner-signature``."""
    if not KEY_PATTERN.match(f"{owner}-{'0' * 32}"):
        raise ConfigError("Only owners of at most 64 lower-case letters, digits, '_' and '.' "
                          f"have a history key. Received: owner={owner[:80]!r}")
    return f"{owner}-{_signature(secret, owner)}"


def owner_from_key(secret: bytes, key: str) -> str:
    """The owner a typed history key stands for; ConfigError unless ``secret`` signed it.

    Spaces and case are forgiven (keys are copied by hand); anything else is refused, in the
    same words whether the form or the signature is wrong.
    """
    text = re.sub(r"\s+", "", str(key)).lower()
    match = KEY_PATTERN.match(text)
    if not match or not hmac.compare_digest(match[2], _signature(secret, match[1])):
        raise ConfigError("That is not a history key issued by this server. Copy the whole "
                          "key shown under Your history key, e.g. "
                          f"{KEY_EXAMPLE}.")
    return match[1]


def _signature(secret: bytes, owner: str) -> str:
    return hmac.new(secret, owner.encode(), hashlib.sha256).hexdigest()[:32]
