"""Kafka: connection settings and diagnostics shared by the Kafka sink, Spark's Kafka source and
streamlab's own Kafka reader.

- `settings`: `KafkaSecurity`, `resolve(settings, **flags)`, the kafka-python and Spark option
  builders (`client_kwargs`, `producer_kwargs`, `admin_kwargs`, `spark_options`), `redact`/`scrub`;
- `diagnose`: `preflight`, `connect`, `KafkaLogCapture`, `explain` (one-line failures).

Import the submodules by name; this package imports nothing, and neither submodule imports
kafka-python or pydantic at import time (`--help` stays fast). Inside this package `import kafka`
still means kafka-python: imports here are absolute.
"""
