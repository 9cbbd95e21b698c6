"""The file `spark-submit` runs: `spark-submit [options] <this file> consume --source ...`.

spark-submit needs a Python *file* as its main resource (it cannot run `-m module`). This one hands
its arguments to the `streamlab` CLI, so a cluster run parses the same flags, makes the same checks
and prints the same one-line errors as `streamlab consume` on a laptop. Under spark-submit the
SparkSession already exists (YARN decides master and resources); `get_session` only adds streamlab's
SQL settings to it.

Its path on a node with streamlab installed (what `--print-spark-submit` puts in the command):
    python3 -c 'import streamlab.spark.entry as e; print(e.__file__)'
In YARN cluster mode spark-submit uploads this file; streamlab itself must be installed on every
node (examples/emr/bootstrap.sh does it), because the driver and the executors import it.
"""

from __future__ import annotations

import os
import sys

# Python puts this file's folder first on sys.path; it holds modules named `session`, `job`,
# `readers`... which must not shadow anything as top-level names.
if sys.path and sys.path[0] and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]


def main(argv: list[str] | None = None) -> None:
    from streamlab.cli import main as cli_main

    cli_main(list(sys.argv[1:] if argv is None else argv))  # exits with the command's status


if __name__ == "__main__":
    main()
