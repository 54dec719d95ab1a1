"""Waiting for the running stack: poll until a condition holds, or fail with what was seen."""

import time


def wait_until(condition, *, timeout: float = 60, interval: float = 0.25, stack=None, what=""):
    """Return the first truthy value of `condition()`; fail after `timeout` seconds (a bound on
    liveness, not a performance expectation)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        if stack is not None:
            stack.check_alive()
        time.sleep(interval)
    raise AssertionError(f"Timed out waiting for {what or condition}: last value {last!r}")
