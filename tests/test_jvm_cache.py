"""The class-data archive of Spark's classes (streamlab.spark.jvm_cache): when a run writes one, when
it uses one, and that only an archive whose JVM exited normally is ever put in place (a half-written
one would crash the next JVM). A real `java` is used where the version matters; the JVM's exit is a
real child process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from streamlab.spark import jvm_cache


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("STREAMLAB_JVM_CACHE", raising=False)
    home = tmp_path / "spark"
    (home / "jars").mkdir(parents=True)
    (home / "jars" / "spark-core.jar").write_bytes(b"jar")
    return str(home)


def java() -> str:
    found = shutil.which("java")
    assert found, "java is needed (Spark needs it too): apt-get install openjdk-17-jre-headless"
    return found


def test_first_run_claims_the_archive_later_runs_use_it(cache):
    opts, tmp = jvm_cache.options(java(), cache)
    assert tmp is not None and tmp.is_file()  # claimed: a second run meanwhile starts without one
    assert f"-XX:ArchiveClassesAtExit={tmp}" in opts and jvm_cache.QUIET in opts
    assert jvm_cache.options(java(), cache) == ("", None)  # being written by the first
    final = jvm_cache.archive_path(java(), cache)
    os.replace(tmp, final)
    opts, tmp = jvm_cache.options(java(), cache)
    assert tmp is None and opts == f"-XX:SharedArchiveFile={final} {jvm_cache.QUIET}"


def test_another_spark_installation_gets_its_own_archive(cache):
    before = jvm_cache.archive_path(java(), cache)
    jar = os.path.join(cache, "jars", "spark-core.jar")
    os.utime(jar, (time.time() + 5, time.time() + 5))  # pip reinstalled Spark
    assert jvm_cache.archive_path(java(), cache) != before


def test_a_stale_claim_of_a_killed_run_is_dropped(cache):
    _, tmp = jvm_cache.options(java(), cache)
    old = time.time() - jvm_cache.WRITING_S - 5
    os.utime(tmp, (old, old))
    _, again = jvm_cache.options(java(), cache)
    assert again is not None and time.time() - again.stat().st_mtime < 60  # this run claims it afresh


def test_turned_off_or_old_java(cache, monkeypatch, tmp_path):
    monkeypatch.setenv("STREAMLAB_JVM_CACHE", "0")
    assert jvm_cache.options(java(), cache) == ("", None)
    monkeypatch.delenv("STREAMLAB_JVM_CACHE")
    jdk = tmp_path / "jdk11"
    (jdk / "bin").mkdir(parents=True)
    (jdk / "bin" / "java").write_text("#!/bin/sh\n")
    (jdk / "release").write_text('JAVA_VERSION="11.0.2"\n')
    assert jvm_cache.java_major(str(jdk / "bin" / "java")) == 11
    assert jvm_cache.options(str(jdk / "bin" / "java"), cache) == ("", None)  # no dynamic archives before 13
    assert jvm_cache.java_major(java()) >= 17


@pytest.mark.parametrize("code, kept", [(0, True), (1, False)])
def test_the_archive_is_put_in_place_only_when_its_jvm_ended_normally(cache, code, kept):
    _, tmp = jvm_cache.options(java(), cache)
    # stands in for the JVM: writes the archive when its stdin closes, then exits with `code`
    script = f"import sys; sys.stdin.read(); open({str(tmp)!r}, 'wb').write(b'archive'); sys.exit({code})"
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE)
    registered = []
    real = jvm_cache.atexit.register
    try:
        jvm_cache.atexit.register = registered.append
        jvm_cache.finish_at_exit(proc, tmp)
    finally:
        jvm_cache.atexit.register = real
    registered[0]()  # what Python does at exit
    final = jvm_cache.archive_path(java(), cache)
    assert final.is_file() is kept and not tmp.exists()
    if kept:
        assert final.read_bytes() == b"archive"
