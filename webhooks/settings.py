"""Settings of the webhook receiver and notifier: names, defaults, and reading them.

The environment is read only when a setting is needed, never at import time. Secrets
come only from the environment and never appear in an error message or a log line: an
error names the variable (and the position of a bad entry), not its value.
"""

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from webhooks.signing import decode_secret

SECRETS_ENV = "TRACTIAN_WEBHOOK_SECRETS"
NOTIFY_URL_ENV = "TRACTIAN_NOTIFY_URL"
NOTIFY_SECRET_ENV = "TRACTIAN_NOTIFY_SECRET"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8720
WEBHOOK_PATH = "/webhooks"
DEFAULT_INBOX_PATH = Path("warehouse/webhooks_inbox.sqlite")
DEFAULT_OUTBOX_PATH = Path("warehouse/notifications.sqlite")

MAX_BODY_BYTES = 64 * 1024
# Senders retry for up to 24 hours; ids are kept three times that long.
DEDUPE_RETENTION_SECONDS = 72 * 3600
# A sender wants its answer within 10 seconds; a write slower than this answers 503.
STORE_TIMEOUT_SECONDS = 8.0


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it, never its value."""


def _required(name: str, env: Mapping[str, str] | None) -> str:
    value = (os.environ if env is None else env).get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set")
    return value


def _checked_secret(name: str, secret: str) -> str:
    try:
        decode_secret(secret)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None
    if not secret.startswith("whsec_"):
        raise SettingsError(f"{name}: a secret must look like whsec_<base64>")
    return secret


def receiver_secrets(env: Mapping[str, str] | None = None) -> list[str]:
    """The receiver's secrets: several, comma-separated, while a key is being rotated."""
    secrets = []
    for position, part in enumerate(_required(SECRETS_ENV, env).split(","), start=1):
        what = f"{SECRETS_ENV} entry {position}"
        if not part.strip():
            raise SettingsError(f"{what} is empty")
        secrets.append(_checked_secret(what, part.strip()))
    return secrets


def notify_url(env: Mapping[str, str] | None = None) -> str:
    """The URL notifications are posted to (http or https)."""
    url = _required(NOTIFY_URL_ENV, env)
    return checked_url(url, NOTIFY_URL_ENV)


def checked_url(url: str, what: str) -> str:
    """`url` if it is an absolute http(s) URL, else a `SettingsError` naming `what`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{what} must be an absolute http:// or https:// URL, got {url!r}")
    return url


def notify_secret(env: Mapping[str, str] | None = None) -> str:
    """The `whsec_...` secret notifications are signed with."""
    return _checked_secret(NOTIFY_SECRET_ENV, _required(NOTIFY_SECRET_ENV, env))


def notifications_configured(env: Mapping[str, str] | None = None) -> bool:
    """Whether a notification URL is set (callers skip notifying when it is not)."""
    return bool((os.environ if env is None else env).get(NOTIFY_URL_ENV, "").strip())


def display_url(url: str) -> str:
    """`url` safe to print: scheme, host and port only (paths and queries may hold tokens)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    hidden = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.hostname}{port}{hidden}"
