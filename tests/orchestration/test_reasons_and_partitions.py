"""Failure reasons from what `sources/` raises, and partition keys turned into windows."""

from datetime import UTC, datetime

import pytest

from orchestration import alerts
from orchestration.partitions import windows_by_connection
from sources.connections import ConnectionConfigError
from sources.errors import Forbidden, InvalidToken, ReauthorizationRequired, TransientError
from sources.pipeline import ConnectionNeedsAttention, SyncFailed, SyncReport


def failed_sync(*failures):
    return SyncFailed(
        SyncReport("plant", datetime(2025, 6, 2, tzinfo=UTC), failures=list(failures))
    )


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            ConnectionNeedsAttention("plant", ReauthorizationRequired("401")),
            "reauthorization_required",
        ),
        (ConnectionNeedsAttention("plant", InvalidToken("401")), "invalid_token"),
        (ConnectionConfigError("connection 'plant': no api_token"), "misconfigured"),
        (ConnectionConfigError("connection 'plant': no /companies endpoint"), "misconfigured"),
        (TransientError("GET /companies: still rate limited after 31 waits"), "rate_limited"),
        (TransientError("GET /companies: HTTP 503 (gave up after 6 attempts)"), "transient"),
        (Forbidden("GET /companies/x/assets: HTTP 403 forbidden: no"), "forbidden"),
        (
            failed_sync("/assets/a/vibration [..): GET ..: still rate limited after 31 waits"),
            "rate_limited",
        ),
        (
            failed_sync("/assets/a/vibration [..): GET ..: HTTP 502 (gave up after 6 attempts)"),
            "transient",
        ),
        (failed_sync("events of company c: GET ..: HTTP 404 not found: gone"), "transient"),
        (ValueError("a bug"), "unexpected"),
    ],
)
def test_given_what_a_sync_raised_then_the_alert_reason_names_the_cause(error, reason):
    assert alerts.reason_for(error) == reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("DagsterAssetCheckFailedError: 1 blocking asset check failed", "data_quality"),
        ("TableValidationError: clean.dim_asset failed validation", "data_quality"),
        ("dagster.Failure: plant: reauthorization_required: ...", "reauthorization_required"),
        ("KeyError: 'name'", "unexpected"),
    ],
)
def test_given_an_error_text_without_our_metadata_then_the_reason_is_read_from_it(text, reason):
    assert alerts.reason_from_text(text) == reason


def test_given_auth_failure_then_dagster_failure_forbids_retries_and_carries_reasons():
    failure = alerts.failure({"plant": ("reauthorization_required", "stopped")})

    assert failure.allow_retries is False
    assert failure.metadata["reasons"].value == {"plant": "reauthorization_required"}
    assert failure.metadata["connection"].text == "plant"


def test_given_partition_keys_then_days_merge_into_contiguous_windows_per_connection():
    keys = ["b|2025-06-01", "a|2025-06-03", "a|2025-06-01", "a|2025-06-02", "a|2025-06-05"]

    windows = windows_by_connection(keys)

    def utc(d):
        return datetime(2025, 6, d, tzinfo=UTC)

    assert windows == {
        "a": [(utc(1), utc(4)), (utc(5), utc(6))],
        "b": [(utc(1), utc(2))],
    }
