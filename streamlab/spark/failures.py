"""A failed Spark query, told in one line: the source's own words when we know them, else the
last `...Error: ...` line of Spark's text (the whole trace is there with --traceback)."""

from __future__ import annotations

import re

from streamlab.errors import ConnectionFailed, MissingDependency, StreamlabError


def explain_source_failure(source: str, req, text: str):
    """A one-line error for a source failure Spark reports in its own words (None: no better words)."""
    if source == "socket" and ("Connection refused" in text or "ConnectException" in text):
        return ConnectionFailed(
            f"nothing accepts connections on {req.host}:{req.port}",
            f"start the producer first, e.g. `streamlab produce tweets --sink socket --port {req.port}` (or `nc -lk {req.port}`)",
        )
    codec = re.search(r"UnsupportedCodecError: Libraries for (\w+) compression codec not found", text)
    if codec:
        from streamlab.doctor import KAFKA_CODECS

        name = codec.group(1)
        package = next((dist for codec_name, _, dist in KAFKA_CODECS if codec_name == name), name)
        return MissingDependency(f"the topic holds {name}-compressed record batches and {package} is not installed",
                                 f"pip install {package} where Spark's Python workers run (`streamlab doctor` lists every Kafka codec)")
    return None


#: how an interrupted batch's error reads (the JVM's words, or Py4J's for a foreachBatch in Python)
INTERRUPTED = re.compile(r"InterruptedException|InterruptedIOException|ClosedByInterrupt|interrupted|cancelled|StackOverflowError")


def raise_failure(queries, explain=None) -> None:
    """Raise the first failed query's error (after `explain(text)` had a chance to word it)."""
    for q in queries:
        exc = q.exception()
        if exc is not None and getattr(q, "stopped_mid_batch", False) and INTERRUPTED.search(str(getattr(exc, "desc", None) or exc)):
            continue  # the batch the stop interrupted (see `queries.stop`): what it committed is kept
        if exc is not None:
            better = explain(str(getattr(exc, "desc", None) or exc)) if explain else None
            if better is not None:
                raise better
            raise StreamlabError(f"the Spark query {q.name} failed: {first_line(exc)}", "rerun with --traceback for Spark's details")


def first_line(exc) -> str:
    # Python errors from foreachBatch or the source arrive wrapped in JVM text; pick the
    # last "SomethingError: ..." line, which is the one that says what went wrong.
    text = str(getattr(exc, "desc", None) or exc)
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    useful = [l for l in lines if re.match(r"^[A-Za-z_.]+(Error|Exception)\b", l)]
    return (useful[-1] if useful else lines[0] if lines else type(exc).__name__)[:300]
