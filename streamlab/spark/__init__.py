"""Spark Structured Streaming consumers (`streamlab consume`), built from four small registries.

    session.py      the SparkSession (local and lean, or whatever spark-submit set up) + Java/pyspark checks
    readers.py      source name -> reader (native JVM connector when present, streamlab's Python source else)
    kinesis_source.py  streamlab's Kinesis source for Spark (pyspark.sql.datasource, AvailableNow on 4.2+)
    kafka_source.py    streamlab's Kafka source for Spark (kafka-python), same shape
    arrow.py        a source schema's Arrow form (what Spark checks the sources' batches against)
    transforms/     dataset name -> pure DataFrame functions (parse, quarantine, windows)
    writers.py      sink name -> writer (console table, Parquet path), quarantine output
    job.py          wires one consume run: reader -> transform -> writers, bounded or not; returns a summary

Nothing here is imported by `streamlab --help`; pyspark is imported only when a consumer runs.
"""
