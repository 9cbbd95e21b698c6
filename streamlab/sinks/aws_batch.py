"""The PutRecords / PutRecordBatch call shared by the Kinesis and Firehose sinks.

Both answer index-aligned (an `ErrorCode` per failed entry) and fail whole calls the same ways, so the
mapping lives here once: retryable whole-call errors and lost connections -> `RetryBatch` (the
Batcher resends the batch), the target gone -> the sink's own one-line error, per-entry errors ->
`Failure`s (the Batcher resends only those).
"""

from __future__ import annotations

from typing import Any, Callable

from streamlab.errors import StreamlabError
from streamlab.sinks.base import Failure, RetryBatch

#: whole-call errors worth another try (the per-entry ones come back in the answer instead)
RETRYABLE_CALL_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "LimitExceededException",
        "KMSThrottlingException",
        "InternalFailure",
        "InternalFailureException",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)

#: botocore exception class names that mean "the connection failed, the call may be repeated"
CONNECTION_ERRORS = frozenset(
    {
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionError",
        "ProxyConnectionError",
    }
)


#: of those, the ones raised before a request could be sent
NEVER_CONNECTED = frozenset({"EndpointConnectionError", "ConnectTimeoutError", "ProxyConnectionError"})


def put_batch(call: Callable[[], dict], *, gone: Callable[[], StreamlabError], failed_count: str, responses: str) -> list[Failure]:
    """Make one batch call; return the failed entries by index. `gone()` builds the not-found error."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        resp: Any = call()
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code, message = err.get("Code", "ClientError"), err.get("Message", "")
        if code in RETRYABLE_CALL_ERRORS:
            raise RetryBatch(code, message) from None
        if code == "ResourceNotFoundException":
            raise gone() from None
        raise
    except BotoCoreError as exc:
        name = type(exc).__name__
        if name in CONNECTION_ERRORS:
            # An outage (the Batcher rides it out up to --max-outage). Only a connection that was
            # never made surely carried nothing; a reset or a read timeout may follow a delivery.
            raise RetryBatch(name, str(exc), unsure=name not in NEVER_CONNECTED, outage=True) from None
        raise
    if not resp.get(failed_count):
        return []
    return [Failure(i, r["ErrorCode"], r.get("ErrorMessage", "")) for i, r in enumerate(resp[responses]) if r.get("ErrorCode")]
