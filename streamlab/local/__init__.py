"""Local stand-ins for the cloud, on 127.0.0.1 only: what `streamlab local up|down|status`, the demo,
the tests and the benchmarks start instead of real AWS or a real Kafka cluster.

Shape: three shared helpers and one module per service.

- `processes`: free ports, port and pid probes, starting and stopping child processes;
- `state`: the one state file `<state_dir>/local.json`, one section per service;
- `service`: what a server run as a child process shares (its record, handle, status and stop);
- `emulator`: the moto server (`python -m streamlab.local.emulator --port N`);
- `aws`: start/stop/inspect that emulator for `local up|down|status` ("aws" section);
- `kafka`: the tansu Kafka broker ("kafka" section);
- `redis_server`: the Valkey (Redis-compatible) server of `local up --redis` ("redis" section).

A new service (a scheduler) is one more module: build its command line, start it with
`processes.spawn` + `processes.wait_port`, record it with `state.write(state_dir, NAME, ...)`, and
describe and stop it through `service` (a `ServiceInfo` subclass naming the word its command line holds).
Nothing here is imported by `streamlab --help`: importing this package loads nothing.
"""
