"""Parquet to S3 without Hadoop's S3 file system: foreachBatch -> Arrow -> pyarrow S3, on the moto server.

The lab's own paths are used as written (`s3a://.../bronze/reviews --checkpoint DIR`). Files are read
back with pyarrow, independently of Spark; the Athena DDL is checked against what was written.
"""

from __future__ import annotations

import gzip
from urllib.parse import urlparse

import pytest

from streamlab.athena import columns
from streamlab.aws.session import AWS
from streamlab.errors import ConfigError, ResourceNotFound
from streamlab.settings import load_settings
from streamlab.sources.reviews import sample_path
from streamlab.spark.job import run_consume
from streamlab.spark.request import ConsumeRequest
from tests.fixtures.aws import unique

pytestmark = [pytest.mark.spark, pytest.mark.spark35]  # also run under pyspark 3.5 (make test-spark35)


def reviews(n: int, skip: int = 0) -> list[str]:
    with gzip.open(sample_path(), "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    return lines[1 + skip : 1 + skip + n]


def moto_fs(emulator):
    from pyarrow import fs

    u = urlparse(emulator.url)
    return fs.S3FileSystem(endpoint_override=u.netloc, scheme=u.scheme, access_key="testing", secret_key="testing", region="us-east-1")


ARROW_TO_ATHENA = {"string": "string", "int32": "int", "int64": "bigint", "bool": "boolean", "date32[day]": "date"}


def athena_type(t) -> str:
    s = str(t)
    return "timestamp" if s.startswith("timestamp") else ARROW_TO_ATHENA[s]


def test_lab_path_s3a_written_with_arrow_replay_safe_and_matching_athena(spark, aws_env, s3, tmp_path):
    bucket = unique("hwe-fall")
    s3.create_bucket(Bucket=bucket)
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.tsv").write_text("\n".join(reviews(200) + ["too\tfew"]) + "\n")
    path, cp = f"s3a://{bucket}/me/bronze/reviews", str(tmp_path / "kafka-checkpoint")
    kw = dict(source="files", input_path=str(inbox), file_format="tsv", dataset="reviews", sink="s3", path=path,
              checkpoint=cp, trigger="available-now", quiet=True)
    first = run_consume(ConsumeRequest(load_settings(), **kw), spark=spark)
    assert (first.input_rows, first.trades, first.quarantined) == (201, 200, 1)

    fs = moto_fs(aws_env)
    import pyarrow.parquet as pq

    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["me/bronze/reviews/_quarantine/batch_id=0/part-00000.parquet", "me/bronze/reviews/batch_id=0/part-00000.parquet"]
    table = pq.read_table(f"{bucket}/me/bronze/reviews/batch_id=0/part-00000.parquet", filesystem=fs)
    assert table.num_rows == 200
    # the Athena table declares exactly these columns and types
    assert [(f.name, athena_type(f.type)) for f in table.schema] == columns("reviews")

    # a second file, same checkpoint: only the new batch is written
    (inbox / "b.tsv").write_text("\n".join(reviews(50, skip=200)) + "\n")
    # The run's AWS handle does all its AWS work: with the request's own settings pointing nowhere
    # (nothing listens on port 9), the bucket check and the writes still reach the emulator.
    nowhere = load_settings(endpoint_url="http://127.0.0.1:9")
    second = run_consume(ConsumeRequest(nowhere, **kw), aws=AWS(load_settings()), spark=spark)
    assert (second.input_rows, second.quarantined) == (50, 0)
    import pyarrow.dataset as ds

    every = ds.dataset(f"{bucket}/me/bronze/reviews", filesystem=fs, format="parquet", partitioning="hive",
                       exclude_invalid_files=True, ignore_prefixes=["_"]).to_table()
    ids = every.column("review_id").to_pylist()
    assert len(ids) == len(set(ids)) == 250


def test_replayed_batch_overwrites_its_object(spark, aws_env, s3):
    from streamlab.spark.outputs import ArrowS3Output, s3_filesystem

    bucket = unique("replay")
    s3.create_bucket(Bucket=bucket)
    out = ArrowS3Output(f"s3://{bucket}/x", s3_filesystem(AWS(load_settings())))
    df = spark.createDataFrame([(1,), (2,)], "n int")
    out.write(df, "t", 7)
    out.write(df, "t", 7)  # Spark replays batch 7 after a crash
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["x/t/batch_id=7/part-00000.parquet"]


def test_arrow_s3_reads_back_and_replaces_a_folder(spark, aws_env, s3):
    """What a bounded run's open windows ask of the Arrow S3 writer (no query: a few seconds):
    trades/ read back newer than an event time, windows_open/ replaced by one batch folder, or none."""
    from datetime import datetime

    from streamlab.spark.outputs import ArrowS3Output, s3_filesystem

    bucket = unique("open")
    s3.create_bucket(Bucket=bucket)
    out = ArrowS3Output(f"s3://{bucket}/x", s3_filesystem(AWS(load_settings())))
    schema = spark.createDataFrame([], "symbol string, event_ts timestamp").schema
    out.write(spark.createDataFrame([("A", datetime.fromtimestamp(100)), ("B", datetime.fromtimestamp(200))], schema), "trades", 0)
    out.write(spark.createDataFrame([("C", datetime.fromtimestamp(300))], schema), "trades", 1)
    got = out.read(spark, "trades", schema, after=("event_ts", 150_000))
    assert sorted(r["symbol"] for r in got.collect()) == ["B", "C"]
    assert out.read(spark, "nothing", schema) is None

    def keys() -> list:  # pyarrow's delete_dir leaves the parent's empty marker object `x/windows_open/`
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="x/windows_open/").get("Contents", [])
        return sorted(o["Key"] for o in listed if "batch_id=" in o["Key"])

    df = spark.createDataFrame([(1,)], "n int")
    out.replace(spark, df, "windows_open", 3)
    out.replace(spark, df, "windows_open", 5)
    assert keys() == ["x/windows_open/batch_id=5/part-00000.parquet"]
    out.replace(spark, None, "windows_open", 6)
    assert keys() == []


def test_arrow_s3_honours_session_token(aws_env, monkeypatch):
    from streamlab.spark.outputs import s3_filesystem

    monkeypatch.setenv("AWS_SESSION_TOKEN", "tok-123")
    fs = s3_filesystem(AWS(load_settings()))
    kwargs = fs.__reduce__()[1][0]  # the constructor arguments pyarrow would pickle
    assert (kwargs["session_token"], kwargs["access_key"], kwargs["scheme"]) == ("tok-123", "testing", "http")
    assert kwargs["endpoint_override"] == urlparse(aws_env.url).netloc and kwargs["region"] == "us-east-1"


def test_remote_path_needs_a_checkpoint_and_an_existing_bucket(aws_env, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    with pytest.raises(ConfigError, match="give the checkpoint folder too"):
        ConsumeRequest(load_settings(), source="files", input_path=str(inbox), dataset="raw", sink="s3", path="s3://b/p")
    with pytest.raises(ResourceNotFound, match="S3 bucket no-such-bucket-x not found"):
        run_consume(ConsumeRequest(load_settings(), source="files", input_path=str(inbox), dataset="raw", sink="s3",
                                   path="s3://no-such-bucket-x/p", checkpoint=str(tmp_path / "cp")))
    with pytest.raises(ConfigError, match="--sink s3 needs an s3:// or s3a:// path"):
        ConsumeRequest(load_settings(), source="files", input_path=str(inbox), dataset="raw", sink="s3", path=str(tmp_path))
