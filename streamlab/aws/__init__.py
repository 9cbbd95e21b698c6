"""AWS: `session` builds every client, `localstate` finds the emulator started by `streamlab local up`,
`emulator` runs it, `ledger` records what streamlab created, `provision`/`teardown` plan and apply.
boto3 is imported only inside these modules' functions or by modules the commands import lazily."""
