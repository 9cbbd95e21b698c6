"""Spark Structured Streaming consumers (`streamlab consume`), built from small registries.

    request.py      ConsumeRequest: everything one run needs, checked on construction (no Spark yet)
    job.py          run_consume(request): reader -> dataset -> writers, bounded or not; returns a summary
    queries.py      the records and windows queries; waiting on them, SIGTERM, stopping between batches
    relay.py        how the records query hands good rows to the windows queries, exactly once per batch
    failures.py     a failed query told in one line
    session.py      the SparkSession (local and lean, or whatever spark-submit set up) + Java/pyspark checks
    readers.py      source name -> reader (native JVM connector when present, streamlab's Python source else)
    kinesis_source.py  streamlab's Kinesis source for Spark (pyspark.sql.datasource, AvailableNow on 4.2+)
    kinesis_pages.py   one GetRecords response decoded column-wise into one Arrow batch
    kafka_source.py    streamlab's Kafka source for Spark (kafka-python), same shape; kafka_chunks.py its decoding
    arrow.py        a source schema's Arrow form (what Spark checks the sources' batches against)
    datasets/       dataset name -> a Dataset class (parse, quarantine, optional windows/top-N/latest, outputs)
    writers/        sink name -> writer (console, parquet/s3, memory), quarantine output
    outputs.py      where Parquet goes: paths, Spark's writer or the Arrow S3 writer
    compat.py, submit.py, entry.py  Spark-version differences, `--print-spark-submit`, spark-submit's main file

The command's one AWS handle (`streamlab.aws.session.AWS`) is passed to `run_consume` and from there
to the readers, the bucket check and the S3 writer; executors get `AWS.worker_options()`.
`streamlab --help` reads the registries only: pyspark is imported once a consumer runs.
"""
