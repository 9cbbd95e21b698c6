"""Build the Lambda zip: the handlers plus the pieces of streamlab they import, nothing else.

Deterministic: files in a fixed order, fixed timestamps (1980-01-01) and permissions, so the same
streamlab version always yields the same bytes and the same CodeSha256, and a rerun of provision can
tell whether the deployed code is current. Both functions of the serverless lab share this zip.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the directory holding the `streamlab` package
FILES = (
    "streamlab/__init__.py",
    "streamlab/random_walk.py",
    "streamlab/records.py",
    "streamlab/lambdas/__init__.py",
    "streamlab/lambdas/notify.py",
    "streamlab/lambdas/ticker_generator.py",
)


@functools.lru_cache(maxsize=1)
def build_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel in FILES:
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (ROOT / rel).read_bytes())
    return buf.getvalue()


def code_sha256() -> str:
    """What Lambda reports as CodeSha256: base64 of the zip's SHA-256."""
    return base64.b64encode(hashlib.sha256(build_zip()).digest()).decode()
