"""Share passwords, hashed with scrypt (memory-hard, in the standard library).

Hashing takes ~50 ms and 16 MiB on purpose; it runs in a worker thread so
the event loop keeps serving meanwhile.
"""

import asyncio
import base64
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1
MAXMEM = 64 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=MAXMEM, dklen=32)


def _hash(password: str) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(_derive(password, salt, N, R, P))}"


def _verify(password: str, stored: str) -> bool:
    _, n, r, p, salt, expected = stored.split("$")
    derived = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    return hmac.compare_digest(derived, base64.b64decode(expected))


async def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` for ``password``."""
    return await asyncio.to_thread(_hash, password)


async def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a stored hash."""
    return await asyncio.to_thread(_verify, password, stored)
