"""Dagster resources: where the warehouse and the small state files live, and connections.

Paths are relative to the code location's working directory (the repository root for
`workspace.yaml`), the same defaults the CLI uses. Resources hold names and paths only:
a connection's token is resolved from dlt secrets / the environment when a run or a
sensor needs it, so it never reaches Dagster config, metadata or logs.
"""

from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.alerts import Alerter
from orchestration.connection_status import ConnectionStatusStore
from sources import settings
from sources.connections import Connection, load_connection
from sources.warehouses import Warehouse, configured
from webhooks import settings as webhook_settings

DEFAULT_STATUS_PATH = "warehouse/connection_status.sqlite"


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse: the DuckDB file `db_path`, or the DuckLake when the setting
    `sources.tractian.warehouse` is `ducklake` (see `sources.warehouses.configured`)."""

    db_path: str = settings.DEFAULT_DB_PATH

    def warehouse(self) -> Warehouse:
        return configured(Path(self.db_path))


class TransformResource(dg.ConfigurableResource):
    """Settings of the transform's checks."""

    # The largest share of a raw table's rows that may be quarantined before the
    # `quarantine_under_threshold` check (blocking) fails the run.
    quarantine_max_fraction: float = 0.01


class ConnectionsResource(dg.ConfigurableResource):
    """The configured connections (names fixed when the code location loads)."""

    names: list[str]

    def load(self, name: str) -> Connection:
        """The connection `name` with its token, read from secrets now."""
        return load_connection(name)


class ConnectionStatusResource(dg.ConfigurableResource):
    """The shared record of each connection's health (see `connection_status.py`)."""

    path: str = DEFAULT_STATUS_PATH

    def open(self) -> ConnectionStatusStore:
        return ConnectionStatusStore(self.path)


class AlertsResource(dg.ConfigurableResource):
    """Alerts through the signed notifier's outbox (set `TRACTIAN_NOTIFY_URL` and
    `TRACTIAN_NOTIFY_SECRET`); without them, alerts are only logged in Dagster."""

    outbox_path: str = str(webhook_settings.DEFAULT_OUTBOX_PATH)

    def alerter(self, log: Any) -> Alerter:
        return Alerter(self.outbox_path, log)


class WebhookInboxResource(dg.ConfigurableResource):
    """The inbox file the webhook receiver fills (`tractian-elt webhooks serve`)."""

    path: str = str(webhook_settings.DEFAULT_INBOX_PATH)


def default_resources(connection_names: list[str], home: Path | None = None) -> dict[str, Any]:
    """Every resource the definitions use; with `home`, all files live under it."""

    def where(default: str | Path) -> str:
        return str(home / Path(default).name) if home is not None else str(default)

    return {
        "warehouse": WarehouseResource(db_path=where(settings.DEFAULT_DB_PATH)),
        "transform_settings": TransformResource(),
        "connections": ConnectionsResource(names=list(connection_names)),
        "connection_status": ConnectionStatusResource(path=where(DEFAULT_STATUS_PATH)),
        "alerts": AlertsResource(outbox_path=where(webhook_settings.DEFAULT_OUTBOX_PATH)),
        "webhook_inbox": WebhookInboxResource(path=where(webhook_settings.DEFAULT_INBOX_PATH)),
    }
