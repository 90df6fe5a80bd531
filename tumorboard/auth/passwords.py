"""Password hashing with Argon2id (run off the event loop) and the password policy.

The policy (ASVS 2.1): at least 12 characters (the `Password` type), and not one of the 20,000 most
common passwords, also when only case, surrounding spaces, trailing digits or punctuation, or
repetition set it apart ("Password123!", "qwertyqwerty"), and not the user's own email or name. The
list ships with the project (`common-passwords.txt.gz`, see `common-passwords-LICENSE.txt`), so the
check needs no network.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import re
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tumorboard.errors import InvalidInput

COMMON_PASSWORDS = Path(__file__).resolve().parent / "common-passwords.txt.gz"
TOO_COMMON = "is too common or too easy to guess: choose a longer phrase of your own"

_hasher = PasswordHasher()
# Verified when the email is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")
_TRAILING_NOISE = re.compile(r"[\d\W_]+\Z")


async def hash_password(password: str) -> str:
    """An Argon2id hash of the password."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; takes as long when there is no such user."""

    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with older parameters."""
    return _hasher.check_needs_rehash(password_hash)


@functools.cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def _variants(password: str) -> set[str]:
    """The password as the common list would spell it: lower-case, without trailing digits or
    punctuation, and the unit a repeated password repeats."""
    base = password.strip().lower()
    variants = {base, _TRAILING_NOISE.sub("", base)}
    for text in list(variants):
        for size in range(1, len(text) // 2 + 1):
            if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
                variants.add(text[:size])
                break
    return {variant for variant in variants if variant}


def check_password_policy(password: str, *, field: str, email: str = "", full_name: str = "") -> None:
    """Refuse a password that is common, guessable or the user's own email or name (InvalidInput
    naming the field); the length is checked by the `Password` type."""
    variants = _variants(password)
    own = {value.strip().lower() for value in (email, email.partition("@")[0], full_name) if value.strip()}
    if variants & _common_passwords() or variants & own or len(set(password)) < 4:
        raise InvalidInput(field, TOO_COMMON)
