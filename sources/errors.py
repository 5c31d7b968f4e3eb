"""Typed errors of the Tractian API, told apart as the contract requires.

Messages never carry the token. `AuthError`s stop a connection at once (no retries);
`TransientError` is what is left after the client's retries gave up.
"""


class TractianError(Exception):
    """Base class of every error this connector raises about the API."""


class AuthError(TractianError):
    """The token cannot be used: the connection must be fixed by a person."""

    code = "auth_error"
    action = "check the connection's API token"


class InvalidToken(AuthError):
    """Any 401 without the integration layer's `reauthorization_required` code."""

    code = "invalid_token"
    action = (
        "the API rejected the token (wrong, revoked or expired): ask Tractian support for "
        "a new token and put it in the connection's api_token secret, then sync again "
        "(committed data and state are kept)"
    )


class ReauthorizationRequired(AuthError):
    code = "reauthorization_required"
    action = (
        "the customer's credentials changed: reauthorize the connection in Tractian, "
        "then sync again (committed data and state are kept)"
    )


class Forbidden(TractianError):
    """The token may not read this company (or one of its assets)."""

    code = "forbidden"


class NotFound(TractianError):
    """404: an unknown id, or an optional endpoint this API does not have."""

    code = "not_found"


class RequestRejected(TractianError):
    """The API rejected the request itself (422 or another 4xx): a connector bug or API change."""

    code = "request_rejected"


class UnexpectedBody(TractianError):
    """A 2xx body the contract does not describe (a required field missing, another type):
    a failure of what it was for, never of the whole sync."""

    code = "unexpected_body"


# What reading such a body raises (Arrow's errors derive from ValueError and TypeError).
MALFORMED_BODY_ERRORS = (KeyError, IndexError, TypeError, ValueError)


def failure_cause(exc: Exception) -> str:
    """What a failure report says of `exc`: its message, or what was wrong with a body."""
    if isinstance(exc, TractianError):
        return str(exc)
    return f"unexpected body: {type(exc).__name__}: {exc}"


class TransientError(TractianError):
    """5xx, resets, timeouts, truncated bodies or rate limits that outlasted the retries."""

    code = "transient"


class SourceFailures(Exception):
    """Parts of a run of the `tractian` source failed (companies, endpoints, streams), and
    the caller did not allow a partial load: nothing of the run loads, no state advances.
    """

    def __init__(self, connection_name: str, failures: list[str]) -> None:
        shown = "\n  ".join(failures[:20])
        more = f"\n  ... and {len(failures) - 20} more" if len(failures) > 20 else ""
        super().__init__(
            f"connection {connection_name!r}: {len(failures)} part(s) failed, so nothing of "
            f"this run is loaded (pass allow_partial=True to load the rest):\n  {shown}{more}"
        )
        self.failures = list(failures)
