"""Local stand-ins for the cloud, on 127.0.0.1 only: what `streamlab local up|down|status`, the demo,
the tests and the benchmarks start instead of real AWS or a real Kafka cluster.

Shape: two shared helpers and one module per service.

- `processes`: free ports, port and pid probes, starting and stopping child processes;
- `state`: the one state file `<state_dir>/local.json`, one section per service;
- `emulator`: the moto server (`python -m streamlab.local.emulator --port N`);
- `aws`: start/stop/inspect that emulator for `local up|down|status` ("aws" section);
- `kafka`: the tansu Kafka broker ("kafka" section).

A new service (a Redis server, a scheduler) is one more module: build its command line, start it
with `processes.spawn` + `processes.wait_port`, record it with `state.write(state_dir, NAME, ...)`,
and stop it with `processes.terminate` after checking `processes.cmdline_mentions`.
Nothing here is imported by `streamlab --help`: importing this package loads nothing.
"""
