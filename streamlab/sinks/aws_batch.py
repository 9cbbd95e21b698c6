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

#: whole-call errors worth another try (the per-entry ones come back in the answer instead). The
#: sinks' clients make one attempt per call (`AWS.client(sdk_retries=False)`), so this covers what
#: botocore's standard retry mode would have retried: its throttling and transient codes, plus any
#: answer with HTTP status 500/502/503/504 (`TRANSIENT_STATUS`).
RETRYABLE_CALL_ERRORS = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "RequestThrottled",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "SlowDown",
        "PriorRequestNotComplete",
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
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})

#: botocore exceptions raised before a request could be sent (the others of its ConnectionError /
#: HTTPClientError families, e.g. a reset or a read timeout, may follow a delivery)
NEVER_CONNECTED = frozenset({"EndpointConnectionError", "ConnectTimeoutError", "ProxyConnectionError"})


def put_batch(call: Callable[[], dict], *, gone: Callable[[], StreamlabError], failed_count: str, responses: str) -> list[Failure]:
    """Make one batch call; return the failed entries by index. `gone()` builds the not-found error."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError, SSLError

    try:
        resp: Any = call()
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code, message = err.get("Code", "ClientError"), err.get("Message", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in RETRYABLE_CALL_ERRORS or status in TRANSIENT_STATUS:
            raise RetryBatch(code, message) from None
        if code == "ResourceNotFoundException":
            raise gone() from None
        raise
    except SSLError:
        raise  # a certificate problem does not pass by waiting
    except (ConnectionError, HTTPClientError) as exc:
        # An outage (the Batcher rides it out up to --max-outage). Only a connection that was
        # never made surely carried nothing; a reset or a read timeout may follow a delivery.
        name = type(exc).__name__
        raise RetryBatch(name, str(exc), unsure=name not in NEVER_CONNECTED, outage=True) from None
    if not resp.get(failed_count):
        return []
    return [Failure(i, r["ErrorCode"], r.get("ErrorMessage", "")) for i, r in enumerate(resp[responses]) if r.get("ErrorCode")]
