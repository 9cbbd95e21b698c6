"""AWS: `session` builds every client (and finds the emulator from `streamlab local up` through
`streamlab.local.aws`), `ledger` records what streamlab created, `provision`/`teardown` plan and apply.
The emulator itself lives in `streamlab.local`. boto3 is imported only inside these modules'
functions or by modules the commands import lazily."""
