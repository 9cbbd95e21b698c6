"""`streamlab doctor` reports what is present and names the fix for what is missing."""

import json
import os
import subprocess
import sys


def test_doctor_json_lists_each_check(run_cli):
    r = run_cli("doctor", "--output", "json")
    checks = {c["name"]: c for c in json.loads(r.out)}
    assert {"python", "java", "pyspark", "pyarrow", "moto", "aws region", "aws credentials", "local emulator"} <= set(checks)
    assert checks["java"]["status"] == "ok" and "17" in checks["java"]["detail"]
    assert r.code == 0


def test_doctor_without_java_names_the_fix(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = os.path.dirname(sys.executable)  # the venv's bin: python, no java
    p = subprocess.run([sys.executable, "-m", "streamlab", "doctor", "--output", "json"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 1
    java = next(c for c in json.loads(p.stdout) if c["name"] == "java")
    assert java["status"] == "missing" and "OpenJDK 17" in java["fix"]


def test_doctor_table_never_cuts_its_text(tmp_path):
    """Piped with an 80-column COLUMNS, the table takes the width its text needs (up to 160
    columns; in a terminal it wraps cells instead): a long path or fix is there whole, never cut
    off with an ellipsis (issue 18 item 12)."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "COLUMNS": "80"}
    p = subprocess.run([sys.executable, "-m", "streamlab", "doctor"], capture_output=True, text=True,
                       env=env, timeout=60, cwd=tmp_path)
    assert "…" not in p.stdout, p.stdout
    cells = "".join(line.split("│")[3] if line.count("│") > 3 else "" for line in p.stdout.splitlines())
    assert sys.executable in cells.replace(" ", ""), p.stdout  # the python check's detail, whole
