"""Run a Python module with the wall clock moved by a fixed offset, time still flowing.

    python -m tests.timeshift <offset seconds> -m daphne …

Integration tests place real calls, which the compliance engine allows only in the callee's
lawful hours; a test run at 3 a.m. US time would find none. Every process of the test stack
(and the test itself) moves its clock by the same offset to a weekday afternoon, so the
schedule is the same whenever the suite runs. Monotonic clocks are not moved.
"""

import runpy
import sys
import time

import time_machine


def main() -> None:
    offset = float(sys.argv[1])
    if sys.argv[2] != "-m" or len(sys.argv) < 4:
        raise SystemExit("usage: python -m tests.timeshift <offset seconds> -m <module> [args…]")
    module = sys.argv[3]
    time_machine.travel(time.time() + offset, tick=True).start()
    sys.argv = [module, *sys.argv[4:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
