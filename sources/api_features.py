"""What an API offers beyond Tractian's published one, found by asking, and what follows.

The published API has no `/connection` and no `/companies`; an integration layer in
front of it may add both (contract v2, part I). A sync asks each once: a 404 means the
endpoint is absent here, never an error. What they would have told is then taken from
elsewhere: the companies from the connection's configuration, the clock from the local
UTC clock (a skew of minutes is covered many times over by the 48 h lookback, and
windows never end in the future of the API's data by more than that skew).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sources.client import TractianClient
from sources.connections import Connection, ConnectionConfigError, companies_hint
from sources.errors import (
    AuthError,
    NotFound,
    ReauthorizationRequired,
    TractianError,
    TransientError,
)

Record = dict[str, Any]
REAUTHORIZATION_REQUIRED = ReauthorizationRequired.code
COMPANIES = "/companies"


@dataclass(frozen=True)
class ApiFeatures:
    """The optional endpoints' answers; None where the endpoint does not exist."""

    connection: Record | None
    companies: list[Record] | None
    # path -> why an optional endpoint that exists did not answer (after the retries)
    failed: dict[str, str] = field(default_factory=dict)

    def now(self) -> datetime:
        """The API's clock (`/connection.checkedAt`) when it has one, else the local one."""
        checked_at = (self.connection or {}).get("checkedAt")
        if checked_at:
            return datetime.fromisoformat(checked_at.replace("Z", "+00:00"))
        return datetime.now(UTC)

    def describe(self) -> str:
        """Which optional endpoints answered, for `tractian-elt status` and reports."""

        def answered(body: object) -> str:
            return "yes" if body is not None else "no"

        return f"/connection {answered(self.connection)}, /companies {answered(self.companies)}"

    @property
    def needs_reauthorization(self) -> bool:
        """`/connection` says the customer must reauthorize (its other endpoints 401)."""
        return (self.connection or {}).get("status") == REAUTHORIZATION_REQUIRED

    @property
    def companies_failed(self) -> bool:
        """`/companies` exists but did not answer: the company names are unknown now."""
        return COMPANIES in self.failed

    def check_authorized(self) -> None:
        """Raise `ReauthorizationRequired` when `/connection` says the customer must act."""
        if self.needs_reauthorization:
            raise ReauthorizationRequired(f"GET /connection: {REAUTHORIZATION_REQUIRED}")


def detect(client: TractianClient) -> ApiFeatures:
    """Ask the optional endpoints. Any 401 raises as it would on a data request; any other
    failure leaves that endpoint out of this sync, noted in `failed`. Behind a connection
    that needs reauthorization, `/companies` (which would answer 401) is not asked."""
    failed: dict[str, str] = {}
    only_connection = ApiFeatures(_optional(client, "/connection", failed), None, failed)
    if only_connection.needs_reauthorization:
        return only_connection
    companies = _optional(client, COMPANIES, failed)
    return ApiFeatures(only_connection.connection, companies, failed)


def _optional(client: TractianClient, path: str, failed: dict[str, str]) -> Any:
    try:
        return client.get(path)
    except NotFound:
        return None
    except AuthError:
        raise
    except TractianError as exc:
        failed[path] = str(exc)
        return None


def companies_to_sync(
    connection: Connection, features: ApiFeatures
) -> tuple[list[Record], list[str]]:
    """(companies as `{id, name}`, failures): the configured ones, else all `/companies` lists.

    Without either there is nothing to sync: a `ConnectionConfigError` naming the setting,
    raised before any data request. A configured company that `/companies` does not list
    is a failure of that company (the token may not read it); the others sync.
    """
    wanted = tuple(dict.fromkeys(connection.company_ids))  # a company listed twice syncs once
    if features.companies is None:
        if not wanted and features.companies_failed:
            raise TransientError(features.failed[COMPANIES])
        if not wanted:
            raise ConnectionConfigError(
                f"connection {connection.name!r}: this API has no /companies endpoint (the "
                f"published Tractian API does not), so the companies to sync must be "
                f"configured: {companies_hint(connection.name)}"
            )
        return [{"id": c, "name": None} for c in wanted], []
    readable = {c["id"]: c for c in features.companies}
    if not wanted:
        return list(readable.values()), []
    failures = [
        f"company {c}: the token of connection {connection.name!r} may not read it (forbidden)"
        for c in wanted
        if c not in readable
    ]
    return [readable[c] for c in wanted if c in readable], failures


@dataclass(frozen=True)
class Health:
    """A connection's health as far as this API can tell."""

    status: str  # online | offline | reauthorization_required | invalid_token
    detail: str  # what to do, when a person must act
    features: ApiFeatures | None  # None when a 401 stopped the check
    companies: list[Record]
    connection_id: str | None = None  # the integration layer's id, where it has one


def check_health(client: TractianClient, connection: Connection) -> Health:
    """`/connection`'s status where it exists; otherwise whether the token reads the first
    company (one published request: any 401 is `invalid_token`, there is no other code).

    Raises `ConnectionConfigError` when the companies are neither configured nor listed,
    and `TractianError` when the API did not answer.
    """
    try:
        features = detect(client)
        status = features.connection
        if status is not None and features.needs_reauthorization:
            # its data endpoints answer 401 now; /connection alone still names the connection
            action = ReauthorizationRequired.action
            return Health(
                REAUTHORIZATION_REQUIRED, action, features, [], status.get("connectionId")
            )
        companies, _ = companies_to_sync(connection, features)
        if status is not None:
            return Health(
                str(status.get("status")), "", features, companies, status.get("connectionId")
            )
        if companies:
            client.get(f"/companies/{companies[0]['id']}/locations", {"page": 1, "limit": 1})
    except AuthError as exc:
        return Health(exc.code, exc.action, None, [])
    return Health("online", "", features, companies)
