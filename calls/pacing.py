"""Calls-per-second pacing: token buckets shared by every worker.

A dial takes a token from two buckets at once: the carrier account's (its calls-per-second
limit holds across every campaign and worker) and its campaign's (the campaign's own rate,
inside the account's).

With Redis configured the bucket lives in Redis (one Lua script call takes a token
atomically), so any number of workers on any machine share one rate. Without Redis (the
single-process demo) the bucket lives in the worker process.
"""

import threading
import time
from dataclasses import dataclass

from django.conf import settings

# Takes one token from every bucket, or from none: a call counts against the carrier
# account's rate and its campaign's rate at the same instant, so neither is ever spent on a
# call that the other holds back. Returns {0, 0} when the tokens were taken, else the
# milliseconds to wait and the 1-based index of the bucket that is the longest wait.
TAKE_TOKENS = """
local now = tonumber(ARGV[1])
local count = #KEYS
local tokens, wait, binding = {}, 0, 0
for index = 1, count do
  local rate = tonumber(ARGV[index * 2])
  local capacity = tonumber(ARGV[index * 2 + 1])
  local state = redis.call('HMGET', KEYS[index], 'tokens', 'at')
  local held = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  held = math.min(capacity, held + math.max(0, now - at) * rate / 1000)
  tokens[index] = held
  if held < 1 then
    local needed = math.ceil((1 - held) * 1000 / rate)
    if needed > wait then
      wait, binding = needed, index
    end
  end
end
for index = 1, count do
  local rate = tonumber(ARGV[index * 2])
  local capacity = tonumber(ARGV[index * 2 + 1])
  local held = tokens[index]
  if wait == 0 then
    held = held - 1
  end
  redis.call('HSET', KEYS[index], 'tokens', held, 'at', now)
  redis.call('PEXPIRE', KEYS[index], math.ceil(capacity * 1000 / rate) + 60000)
end
return {wait, binding}
"""


@dataclass(frozen=True)
class Bucket:
    key: str
    rate: float  # tokens per second
    capacity: float = 1.0  # no bursts beyond one call: carriers count per second


@dataclass(frozen=True)
class Refusal:
    """No token now: the seconds until one could be had, and the bucket that holds it back."""

    seconds: float
    bucket: Bucket


_script = None
_local_lock = threading.Lock()
_local_state: dict[str, tuple[float, float]] = {}


def _redis_take(buckets: list[Bucket]) -> Refusal | None:
    global _script
    if _script is None:
        import redis

        _script = redis.Redis.from_url(settings.REDIS_URL).register_script(TAKE_TOKENS)
    now_ms = int(time.time() * 1000)
    args: list[float] = [now_ms]
    for bucket in buckets:
        args += [bucket.rate, bucket.capacity]
    wait_ms, binding = _script(keys=[f"voiceops:pacing:{b.key}" for b in buckets], args=args)
    if int(wait_ms) == 0:
        return None
    return Refusal(int(wait_ms) / 1000, buckets[int(binding) - 1])


def _local_take(buckets: list[Bucket]) -> Refusal | None:
    with _local_lock:
        now = time.monotonic()
        held = {}
        refusal = None
        for bucket in buckets:
            tokens, at = _local_state.get(bucket.key, (bucket.capacity, now))
            held[bucket.key] = min(bucket.capacity, tokens + (now - at) * bucket.rate)
            if held[bucket.key] < 1:
                wait = (1 - held[bucket.key]) / bucket.rate
                if refusal is None or wait > refusal.seconds:
                    refusal = Refusal(wait, bucket)
        for bucket in buckets:
            _local_state[bucket.key] = (held[bucket.key] - (refusal is None), now)
        return refusal


def take_tokens(buckets: list[Bucket]) -> Refusal | None:
    """Take a token from every bucket at once and return None; or take none and say how
    long to wait, and for which bucket."""
    return _redis_take(buckets) if settings.REDIS_URL else _local_take(buckets)


def wait_for_tokens(buckets: list[Bucket], *, max_wait: float) -> Refusal | None:
    """Block until a token of every bucket is taken (None), or return the refusal that
    would take the wait past `max_wait` seconds."""
    deadline = time.monotonic() + max_wait
    while True:
        refusal = take_tokens(buckets)
        if refusal is None:
            return None
        if time.monotonic() + refusal.seconds > deadline:
            return refusal
        time.sleep(refusal.seconds)
