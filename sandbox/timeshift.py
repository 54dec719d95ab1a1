"""Run a Python module with the wall clock moved by a fixed offset, time still flowing.

    python -m sandbox.timeshift <offset seconds> -m voiceops.web …

The sandbox stands in for the outside world, and the hour of day is part of it: the
compliance engine allows a call only in the callee's lawful hours, so a demo or a test run
at 3 a.m. US time would place none. The demo and the integration tests move every process's
clock by the same offset to a weekday afternoon, so what they show is the same whenever
they run. Monotonic clocks are not moved. Production never uses this.
"""

import runpy
import sys
import time

import time_machine


def main() -> None:
    offset = float(sys.argv[1])
    if sys.argv[2] != "-m" or len(sys.argv) < 4:
        raise SystemExit("usage: python -m sandbox.timeshift <offset seconds> -m <module> [args…]")
    module = sys.argv[3]
    time_machine.travel(time.time() + offset, tick=True).start()
    sys.argv = [module, *sys.argv[4:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
