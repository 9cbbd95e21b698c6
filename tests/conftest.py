"""Shared test setup. Fixture modules live in tests/fixtures/ (one per area) and are loaded here.

The environment is scrubbed of real AWS configuration first: tests talk only to servers on 127.0.0.1.
"""

import os
from pathlib import Path

# The caller's own AWS configuration, kept aside for the opt-in real-AWS tier only
# (tests/test_aws_real.py, STREAMLAB_TEST_REAL_AWS=1); every other test sees the scrubbed one below.
CALLER_AWS_ENV = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}

# Before anything imports boto3: fake credentials, no real config files, a fixed region.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "STREAMLAB_ENDPOINT_URL",
              "STREAMLAB_LOCAL", "FINNHUB_API_KEY", "HWE_BOOTSTRAP", "HWE_USERNAME", "HWE_PASSWORD"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_REGION="us-east-1",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_CONFIG_FILE="/dev/null",
    AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    STREAMLAB_ENV_FILE="/dev/null",
    MOTO_IAM_LOAD_MANAGED_POLICIES="true",
)

pytest_plugins = sorted(
    f"tests.fixtures.{p.stem}" for p in (Path(__file__).parent / "fixtures").glob("*.py") if not p.stem.startswith("_")
)
