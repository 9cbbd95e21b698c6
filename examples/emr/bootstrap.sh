#!/bin/bash
# EMR bootstrap action: install streamlab on every node (primary and core/task), idempotently.
#
#   --bootstrap-actions Path=s3://YOUR-BUCKET/streamlab/bootstrap.sh,Args=[]                    # from PyPI
#   --bootstrap-actions Path=s3://YOUR-BUCKET/streamlab/bootstrap.sh,Args=[s3://YOUR-BUCKET/streamlab/streamlab-0.1.0-py3-none-any.whl]
#   Args=[streamlab==0.1.0]                                                                     # a pinned PyPI version
#
# Why python3.11: EMR 7.x runs Amazon Linux 2023, whose python3 is 3.9; streamlab needs 3.10+.
# Spark's own pyspark (from /usr/lib/spark) is used, so pyspark is NOT installed from PyPI here;
# `streamlab consume --print-spark-submit` sets spark.pyspark.python=/usr/bin/python3.11 to match.
# Running it twice changes nothing: packages already present are left alone.
set -euo pipefail

SPEC="${1:-streamlab}"
PY="${STREAMLAB_PYTHON:-/usr/bin/python3.11}"
SUDO="${SUDO-sudo}"  # SUDO= runs without sudo (a rehearsal off EMR)
log() { echo "streamlab-bootstrap: $*"; }

if [ ! -x "$PY" ]; then
  log "installing python3.11"
  $SUDO dnf install -y -q python3.11 python3.11-pip
fi
if ! "$PY" -m pip --version >/dev/null 2>&1; then
  $SUDO dnf install -y -q python3.11-pip
fi

case "$SPEC" in
  s3://*)
    WHEEL="/tmp/$(basename "$SPEC")"
    aws s3 cp --only-show-errors "$SPEC" "$WHEEL"
    SPEC="$WHEEL"
    ;;
esac

# pyarrow and pandas<3: Arrow conversions and the S3 fallback writer. No pyspark: EMR's is used.
if "$PY" -c 'import streamlab, pyarrow, pandas' >/dev/null 2>&1 && [ "${STREAMLAB_FORCE_INSTALL:-0}" != 1 ] \
   && [ "$SPEC" = streamlab ]; then
  log "streamlab $("$PY" -c 'import streamlab; print(streamlab.__version__)') already installed"
else
  log "installing $SPEC"
  $SUDO "$PY" -m pip install -q --upgrade "$SPEC" "pyarrow>=15" "pandas<3"
fi
"$PY" -m streamlab --version
