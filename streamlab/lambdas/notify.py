"""The notification Lambda: tells the lab's owner, by SNS, that the ticker generator failed.

It is the generator's asynchronous on-failure destination, so its event is Lambda's destination
record (`requestContext.condition`, `responsePayload.errorMessage`, ...); any other event is
summarised as it is. The message names the owner (OWNER_NAME). Environment: TOPIC_ARN, OWNER_NAME.
"""

from __future__ import annotations

import json
import os


def compose(owner: str, event) -> tuple[str, str]:
    """(subject, message) for an event. The subject stays under SNS's 100-character limit."""
    event = event if isinstance(event, dict) else {"event": event}
    ctx = event.get("requestContext") or {}
    response = event.get("responsePayload") or {}
    function = (ctx.get("functionArn") or "the ticker generator").split(":function:")[-1].split(":")[0]
    lines = [f"Hello {owner},", "", f"{function} failed"]
    if ctx.get("condition"):
        lines[-1] += f" ({ctx['condition']}, after {ctx.get('approximateInvokeCount', '?')} attempts)"
    lines[-1] += "."
    if isinstance(response, dict) and response.get("errorMessage"):
        lines.append(f"Error: {response.get('errorType', 'Error')}: {response['errorMessage']}")
    lines += ["", "Event:", json.dumps(event, indent=2, sort_keys=True, default=str)[:4000]]
    subject = f"streamlab alert for {owner}: {function} failed"[:100]
    return subject, "\n".join(lines)


def publish(sns, topic_arn: str, owner: str, event) -> str:
    subject, message = compose(owner, event)
    return sns.publish(TopicArn=topic_arn, Subject=subject, Message=message)["MessageId"]


def handler(event, context):
    import boto3

    message_id = publish(boto3.client("sns"), os.environ["TOPIC_ARN"], os.environ.get("OWNER_NAME", "streamlab"), event)
    return {"message_id": message_id}
