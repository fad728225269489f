"""Password hashing for users: argon2id (argon2-cffi's defaults follow RFC 9106's recommendations).

Unlike API keys (256 random bits, a fast hash is enough), passwords are chosen by people and guessable, so the
hash must be slow and memory-hard. One helper for every login path (portal, ChirpStack-compatible gRPC Login).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so a failed login takes as long whether or not the account exists.
_DUMMY_HASH = _hasher.hash("not-a-password-anyone-has")

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password needs at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
