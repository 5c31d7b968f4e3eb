"""Standard Webhooks signatures (https://www.standardwebhooks.com), stdlib only.

A signature is `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed with the
base64-decoded part of a `whsec_...` secret. Verification works on the raw body bytes,
accepts any of several space-separated signatures (key rotation) and any of several
secrets, and rejects timestamps outside a tolerance window. Every way a header can be
wrong raises `SignatureError`, never `ValueError` or a decoding error.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import time

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 5 * 60


class SignatureError(Exception):
    """The request is not a correctly signed, current Standard Webhooks message."""


@functools.lru_cache(maxsize=32)
def decode_secret(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (the prefix is optional).

    Cached: a receiver decodes the same few secrets for every request.
    """
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("webhook secret is not valid base64 after the whsec_ prefix") from exc
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one message."""
    payload = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(decode_secret(secret), payload, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secret: str, msg_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed now unless `timestamp` is given."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body),
    }


def verify(
    secrets: list[str],
    headers: dict[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> str:
    """Check a message's headers against `secrets`; return its `webhook-id`.

    `headers` must be keyed by lower-case names. Raises `SignatureError` on any failure.
    """
    msg_id = headers.get("webhook-id")
    raw_ts = headers.get("webhook-timestamp")
    raw_sigs = headers.get("webhook-signature")
    if not msg_id or not raw_ts or not raw_sigs:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header")
    # Bounded length: int() of a huge digit string raises ValueError, not SignatureError.
    if not raw_ts.isascii() or not raw_ts.isdigit() or len(raw_ts) > 12:
        raise SignatureError("webhook-timestamp is not a Unix time in seconds")
    timestamp = int(raw_ts)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise SignatureError("webhook-timestamp is outside the tolerance window")
    try:
        payload = f"{msg_id}.{timestamp}.".encode() + body
    except UnicodeEncodeError:
        # HTTP servers decode header bytes that are not UTF-8 to lone surrogates.
        raise SignatureError("webhook-id is not valid UTF-8") from None
    offered = []
    for part in raw_sigs.split(" "):
        version, _, encoded = part.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            offered.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    for secret in secrets:
        expected = hmac.new(decode_secret(secret), payload, hashlib.sha256).digest()
        if any(hmac.compare_digest(expected, sig) for sig in offered):
            return msg_id
    raise SignatureError("no signature matches")
