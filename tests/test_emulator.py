"""The emulator child never outlives a parent that was killed hard (a demo or test run SIGKILLed)."""

import signal
import subprocess
import sys
import time

from streamlab.local.processes import port_open

PARENT = """
import sys, time
from streamlab.local.emulator import Emulator
emu = Emulator().start()
print(emu.port, flush=True)
time.sleep(120)
"""


def test_emulator_exits_when_its_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    port = int(parent.stdout.readline())
    assert port_open("127.0.0.1", port)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while port_open("127.0.0.1", port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not port_open("127.0.0.1", port), "emulator still serving after its parent died"
