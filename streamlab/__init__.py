"""streamlab: one CLI for streaming data labs.

Layers (imports point left): settings/errors/records -> sources/, sinks/ -> pipeline -> commands/ -> cli,
with aws/ (sessions, emulator, provision, ledger, teardown) and spark/ (session, readers, datasets,
writers, job) beside them. Nothing heavy (boto3, pyspark, kafka, moto) is imported at package import.
"""

__version__ = "0.1.0"
