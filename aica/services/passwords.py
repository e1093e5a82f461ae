"""Password hashing (argon2) off the event loop, in a small pool of its own.

An argon2 hash costs tens of milliseconds of CPU by design: on the event loop, ten
concurrent logins would stall every other request; in an unbounded pool, a login flood
would take every core. Each hash runs ``parallelism`` threads (lanes), so the pool runs
as many hashes at once as fill half the cores (at least one): the other half stays free
for everyone else's requests.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from aica.errors import BadInput

MIN_LENGTH = 8
MAX_LENGTH = 1024
"""Longer passwords only cost hashing time."""

_hasher = PasswordHasher()
_pool = ThreadPoolExecutor(
    max_workers=max(1, (os.cpu_count() or 1) // (2 * _hasher.parallelism)),
    thread_name_prefix="argon2",
)


async def hash_password(password: str) -> str:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise BadInput(f"Password must be {MIN_LENGTH}-{MAX_LENGTH} characters", field="password")
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Always costs one argon2 verification, so no answer is faster for a missing account."""
    if len(password) > MAX_LENGTH:  # never a stored password: refused at the same cost
        password_hash, password = None, password[:MAX_LENGTH]
    return await asyncio.get_running_loop().run_in_executor(_pool, _verify, password_hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        matches = _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return matches and password_hash is not None


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))
