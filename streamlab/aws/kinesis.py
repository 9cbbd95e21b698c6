"""Kinesis look-ups shared by the sink, the Spark reader and provisioning."""

from __future__ import annotations

from streamlab.errors import ResourceNotFound


def stream_not_found(name: str, aws) -> ResourceNotFound:
    return ResourceNotFound(
        f"stream {name} not found in {aws.where()}",
        f"create it with `streamlab provision kinesis --stream {name}`",
    )


def require_stream(aws, name: str) -> dict:
    """StreamDescriptionSummary of an existing stream, or the one-line 'create it with' error."""
    client = aws.client("kinesis")
    try:
        return client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    except client.exceptions.ResourceNotFoundException:
        raise stream_not_found(name, aws) from None
