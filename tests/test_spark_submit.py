"""`--print-spark-submit`: the exact command lines, no secret ever, and the printed text run for real.

The last test runs the printed command through bash with pyspark's own `spark-submit` (local
master instead of YARN): entry.py, the quoting and the command substitution all work as printed.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from streamlab.errors import ConfigError
from streamlab.spark.submit import format_command, forwardable_env, spark_submit_command

ENTRY = "\"$(/usr/bin/python3.11 -c 'import streamlab.spark.entry as e; print(e.__file__)')\""
PASSWORD = "pa55-w0rd;with'quotes\"and$dollars"


@pytest.mark.spark35
def test_kinesis_on_emr7_client_mode():
    args = ["--source", "kinesis", "--stream", "trades", "--sink", "s3", "--path", "s3://my-bucket/trades",
            "--checkpoint", "s3://my-bucket/checkpoints/trades", "--print-spark-submit"]
    text = format_command(spark_submit_command(args, source="kinesis"))
    assert text == (
        "spark-submit \\\n"
        "  --master yarn \\\n"
        "  --deploy-mode client \\\n"
        "  --name 'streamlab consume kinesis' \\\n"
        "  --conf spark.pyspark.python=/usr/bin/python3.11 \\\n"
        "  --conf spark.speculation=false \\\n"
        f"  {ENTRY} \\\n"
        "  consume --source kinesis --stream trades --sink s3 --path s3://my-bucket/trades "
        "--checkpoint s3://my-bucket/checkpoints/trades"
    )


@pytest.mark.spark35
def test_kinesis_on_emr7_cluster_mode_forwards_the_region_by_reference():
    env = {"AWS_REGION": "us-east-2", "HOME": "/home/hadoop", "HWE_BOOTSTRAP": ""}
    cmd = spark_submit_command(["--source", "kinesis", "--stream", "trades"], source="kinesis",
                               deploy_mode="cluster", env_names=forwardable_env(env))
    assert format_command(cmd, multiline=False) == (
        "spark-submit --master yarn --deploy-mode cluster --name 'streamlab consume kinesis' "
        "--conf spark.pyspark.python=/usr/bin/python3.11 --conf spark.speculation=false "
        '--conf spark.yarn.appMasterEnv.AWS_REGION="${AWS_REGION}" '
        f"{ENTRY} consume --source kinesis --stream trades"
    )


@pytest.mark.spark35
@pytest.mark.parametrize(
    "spark_version, package",
    [("3.5.6", "org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.6"),
     ("3.5.1-amzn-0", "org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.1"),
     ("4.0.2", "org.apache.spark:spark-sql-kafka-0-10_2.13:4.0.2")],
)
def test_kafka_with_packages(spark_version, package):
    args = ["--source", "kafka", "--topic", "reviews", "--packages", "--dataset", "reviews", "--sink", "s3",
            "--path", "s3a://hwe-fall/me/bronze/reviews", "--checkpoint", "/tmp/kafka-checkpoint"]
    cmd = spark_submit_command(args, source="kafka", spark_version=spark_version, packages=True)
    assert cmd[cmd.index("--packages") + 1] == package
    assert format_command(cmd) == (
        "spark-submit \\\n"
        "  --master yarn \\\n"
        "  --deploy-mode client \\\n"
        "  --name 'streamlab consume kafka' \\\n"
        "  --conf spark.pyspark.python=/usr/bin/python3.11 \\\n"
        "  --conf spark.speculation=false \\\n"
        f"  --packages {package} \\\n"
        f"  {ENTRY} \\\n"
        "  consume --source kafka --topic reviews --packages --dataset reviews --sink s3 "
        "--path s3a://hwe-fall/me/bronze/reviews --checkpoint /tmp/kafka-checkpoint"
    )


@pytest.mark.spark35
def test_packages_are_for_kafka_only():
    with pytest.raises(ConfigError, match="--packages is for --source kafka, not kinesis"):
        spark_submit_command([], source="kinesis", packages=True)


@pytest.mark.spark35
def test_no_secret_ever_appears(monkeypatch):
    env = {"HWE_BOOTSTRAP": "b-1.example:9096", "HWE_USERNAME": "alice", "HWE_PASSWORD": PASSWORD}
    names = forwardable_env(env)
    assert names == ["HWE_BOOTSTRAP", "HWE_USERNAME", "HWE_PASSWORD"]
    # client mode: the driver is spark-submit's own process; nothing is forwarded at all
    client = format_command(spark_submit_command(["--source", "kafka", "--topic", "t"], source="kafka",
                                                 packages=True, env_names=names))
    assert "HWE_" not in client and "appMasterEnv" not in client
    # cluster mode without an env file: refused, and the refusal names the variable, not its value
    with pytest.raises(ConfigError) as e:
        spark_submit_command(["--source", "kafka"], source="kafka", deploy_mode="cluster", env_names=names)
    assert e.value.one_line() == (
        "cluster mode needs HWE_PASSWORD on the driver, and a secret never goes on a command line; "
        "put it in a .env file (shipped to the driver with --files), or use --deploy-mode client"
    )
    # cluster mode with the .env shipped: non-secrets by reference, the password only inside the file
    cluster = format_command(spark_submit_command(["--source", "kafka", "--topic", "t"], source="kafka",
                                                  deploy_mode="cluster", env_names=names, env_file=".env"))
    assert '--conf spark.yarn.appMasterEnv.HWE_BOOTSTRAP="${HWE_BOOTSTRAP}"' in cluster
    assert '--conf spark.yarn.appMasterEnv.HWE_USERNAME="${HWE_USERNAME}"' in cluster
    assert "--files '.env#.env'" in cluster
    assert "HWE_PASSWORD" not in cluster
    for text in (client, cluster):
        assert PASSWORD not in text and "pa55" not in text and "alice" not in text
    # a conf that names a secret is refused, with its value never echoed
    with pytest.raises(ConfigError) as e:
        spark_submit_command([], conf={"spark.hadoop.fs.s3a.secret.key": PASSWORD})
    assert PASSWORD not in e.value.one_line() and "would print a secret" in e.value.one_line()


@pytest.mark.spark35
def test_unknown_deploy_mode():
    with pytest.raises(ConfigError, match="unknown deploy mode 'local'"):
        spark_submit_command([], deploy_mode="local")


def _fake_spark_submit(tmp_path: Path) -> Path:
    """A `spark-submit` that writes the argv it received, one argument per line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "spark-submit"
    script.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "$ARGV_OUT"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bin_dir


@pytest.mark.spark35
def test_printed_text_runs_in_a_shell_and_expands_only_what_it_should(tmp_path):
    """Pasted into bash, the text gives spark-submit these exact arguments (quotes survive)."""
    bin_dir = _fake_spark_submit(tmp_path)
    odd_path = "s3://bucket/it's a path/$HOME"
    cmd = spark_submit_command(["--source", "kinesis", "--stream", "trades", "--path", odd_path],
                               source="kinesis", deploy_mode="cluster", python=sys.executable,
                               env_names=["AWS_REGION"], app_name="lab 1; echo pwned")
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", ARGV_OUT=str(tmp_path / "argv"),
               AWS_REGION="eu-west-1")
    subprocess.run(["bash", "-c", format_command(cmd)], env=env, check=True, timeout=60)
    got = (tmp_path / "argv").read_text().splitlines()
    import streamlab.spark.entry as entry

    assert got == [
        "--master", "yarn", "--deploy-mode", "cluster", "--name", "lab 1; echo pwned",
        "--conf", f"spark.pyspark.python={sys.executable}", "--conf", "spark.speculation=false",
        "--conf", "spark.yarn.appMasterEnv.AWS_REGION=eu-west-1",
        entry.__file__, "consume", "--source", "kinesis", "--stream", "trades", "--path", odd_path,
    ]


def _spark_submit_binary() -> str:
    import pyspark

    return str(Path(pyspark.__file__).parent / "bin" / "spark-submit")


@pytest.mark.spark  # not spark35: the Python Kinesis reader it uses needs Spark 4
def test_entry_runs_a_consume_under_real_spark_submit(aws_env, kinesis, tmp_path):
    """The printed command with a local master: entry.py under spark-submit reads the stream to Parquet."""
    from tests.fixtures.aws import unique
    from tests.test_consume import put, trades

    stream = unique("submit")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    put(kinesis, stream, trades(50))
    out = tmp_path / "out"
    cmd = spark_submit_command(
        ["--source", "kinesis", "--stream", stream, "--sink", "parquet", "--path", str(out),
         "--trigger", "available-now", "--quiet"],
        source="kinesis", master="local[1]", python=sys.executable,
        conf={"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1", "spark.ui.enabled": "false"},
    )
    cmd[0] = _spark_submit_binary()
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable)
    res = subprocess.run(["bash", "-c", format_command(cmd)], env=env, capture_output=True, text=True, timeout=240,
                         cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    import pyarrow.parquet as pq

    assert pq.read_table(out / "trades").num_rows == 50
    kinesis.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)


@pytest.mark.spark35
@pytest.mark.parametrize("args, needed", [
    (["--stream", "trades"], False),  # Kinesis reads no Kafka setting: HWE_PASSWORD is someone else's
    (["--source", "kafka", "--topic", "t", "--security-protocol", "PLAINTEXT"], False),  # no SASL: no password
    (["--source", "kafka", "--topic", "t"], True),  # a username and no protocol: the course's SASL_SSL
])
def test_cluster_mode_asks_only_for_the_secrets_the_job_needs(run_cli, monkeypatch, tmp_path, args, needed):
    monkeypatch.chdir(tmp_path)  # no .env here
    for name, value in (("HWE_PASSWORD", PASSWORD), ("HWE_USERNAME", "alice"), ("HWE_BOOTSTRAP", "b-1.example:9096")):
        monkeypatch.setenv(name, value)
    r = run_cli("consume", *args, "--print-spark-submit", "--deploy-mode", "cluster")
    assert PASSWORD not in r.out + r.err
    if needed:
        assert r.code == 2 and "cluster mode needs HWE_PASSWORD on the driver" in r.err
    else:
        assert r.code == 0, r.err
        assert "HWE_PASSWORD" not in r.out
        assert ("HWE_BOOTSTRAP" in r.out) == ("kafka" in args)
