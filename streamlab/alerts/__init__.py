"""`streamlab alert`: price rules over a live stream, without Spark.

`rules` parses what users write, `evaluate` keeps prices per symbol and decides when a rule fires
or clears (event time only, no wall clock), `follow` reads Kinesis shards or Kafka partitions,
`notify` delivers alerts (console, SNS, webhook, Slack) with retries and a dead-letter file, and
`run` joins them: `run_alert(AlertRequest, aws)`.
"""
