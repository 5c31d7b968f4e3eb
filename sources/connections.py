"""Named connections: each a base URL, a token and the companies it syncs.

Configured in one place, dlt's configuration, under `sources.tractian.connections.<name>`:

    # .dlt/config.toml
    [sources.tractian.connections.plant_a]
    base_url = "https://integrations-service.tractian.com/tractian"
    companies = ["<company id>"]

    # .dlt/secrets.toml (never committed)
    [sources.tractian.connections.plant_a]
    api_token = "..."

or the same keys as environment variables, e.g.
`SOURCES__TRACTIAN__CONNECTIONS__PLANT_A__API_TOKEN` (`..._COMPANIES` comma-separated).
Connections defined only in the environment are listed in
`SOURCES__TRACTIAN__CONNECTION_NAMES` (comma-separated). `companies` is required against
Tractian's published API, which has no endpoint listing them; an integration layer with
`/companies` makes it optional (default: every company the token may read).
The token is read from secrets only, when the connection is resolved, and is kept out
of `repr`, logs and errors.
"""

import os
import re
from dataclasses import dataclass, field

import dlt

from sources import settings
from sources.client import RetryPolicy, TractianClient

SECTION = "sources.tractian.connections"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
AD_HOC_TOKEN_ENV = "TRACTIAN_API_TOKEN"


class ConnectionConfigError(ValueError):
    """A connection is missing or misconfigured; the message says which setting."""


@dataclass(frozen=True)
class Connection:
    name: str
    base_url: str
    token: str = field(repr=False)
    company_ids: tuple[str, ...] = ()  # empty: every company `/companies` lists, if any

    @property
    def pipeline_name(self) -> str:
        return f"tractian_{self.name}"


def connection_names() -> list[str]:
    """Names of every configured connection, sorted."""
    names: set[str] = set()
    for provider in (dlt.config, dlt.secrets):
        section = provider.get(SECTION)
        if isinstance(section, dict):
            names.update(section)
    listed = dlt.config.get("sources.tractian.connection_names")
    if isinstance(listed, str):
        listed = listed.split(",")
    names.update(n.strip() for n in listed or [] if n.strip())
    return sorted(names)


def load_connection(name: str) -> Connection:
    """Resolve connection `name` from dlt config and secrets, or say what is missing."""
    _check_name(name)
    prefix = f"{SECTION}.{name}"
    base_url = dlt.config.get(f"{prefix}.base_url")
    if not base_url:
        raise ConnectionConfigError(
            f"connection {name!r}: no base_url; set {prefix}.base_url in .dlt/config.toml "
            f"or {_env_name(prefix + '.base_url')}"
        )
    token = dlt.secrets.get(f"{prefix}.api_token")
    if not token:
        raise ConnectionConfigError(
            f"connection {name!r}: no api_token; set {prefix}.api_token in .dlt/secrets.toml "
            f"or {_env_name(prefix + '.api_token')}"
        )
    companies = dlt.config.get(f"{prefix}.companies") or ()
    if isinstance(companies, str):
        companies = [c for c in companies.split(",") if c]
    return Connection(name, str(base_url), str(token), tuple(str(c) for c in companies))


def ad_hoc_connection(name: str, base_url: str, companies: tuple[str, ...] = ()) -> Connection:
    """A connection given on the command line: base URL (and companies) from the flags,
    the token from the environment."""
    _check_name(name)
    token = os.environ.get(AD_HOC_TOKEN_ENV)
    if not token:
        raise ConnectionConfigError(
            f"--base-url given without a token: set {AD_HOC_TOKEN_ENV} in the environment"
        )
    return Connection(name, base_url, token, companies)


def companies_hint(name: str) -> str:
    """Where the companies of connection `name` are configured, for error messages."""
    key = f"{SECTION}.{name}.companies"
    return (
        f"set {key} in .dlt/config.toml (a list of company ids) or {_env_name(key)} "
        "(comma-separated); for a --base-url run, pass --companies; in your own dlt "
        "pipeline, pass companies=[...] to the tractian source (or set "
        "sources.tractian.companies)"
    )


def _check_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise ConnectionConfigError(
            f"connection name {name!r} must be lower-case letters, digits and _ "
            "(starting with a letter)"
        )


def _env_name(key: str) -> str:
    return key.upper().replace(".", "__")


def client_for(connection: Connection, *, probe: bool = False) -> TractianClient:
    """A client with the tuning from dlt config (`sources.tractian.*`), defaults otherwise.

    `probe=True` is for health checks, which must answer within a sensor tick: two
    attempts with short back-off, and the read timeout capped at PROBE_READ_TIMEOUT_S.
    """
    section = "sources.tractian"
    read_timeout_s = float(dlt.config.get(f"{section}.read_timeout_s") or settings.READ_TIMEOUT_S)
    if probe:
        retry = RetryPolicy(
            max_attempts=settings.PROBE_MAX_ATTEMPTS,
            backoff_base_s=settings.PROBE_BACKOFF_BASE_S,
            backoff_max_s=settings.PROBE_BACKOFF_MAX_S,
        )
        read_timeout_s = min(read_timeout_s, settings.PROBE_READ_TIMEOUT_S)
    else:
        retry = RetryPolicy(
            max_attempts=int(dlt.config.get(f"{section}.max_attempts") or settings.MAX_ATTEMPTS),
            backoff_base_s=float(
                dlt.config.get(f"{section}.backoff_base_s") or settings.BACKOFF_BASE_S
            ),
            backoff_max_s=float(
                dlt.config.get(f"{section}.backoff_max_s") or settings.BACKOFF_MAX_S
            ),
        )
    return TractianClient(
        connection.base_url, connection.token, retry=retry, read_timeout_s=read_timeout_s
    )
