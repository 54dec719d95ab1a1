"""Calls-per-second pacing: a token bucket shared by every worker.

With Redis configured the bucket lives in Redis (one Lua script call takes a token
atomically), so any number of workers on any machine share one rate. Without Redis (the
single-process demo) the bucket lives in the worker process.
"""

import threading
import time
from dataclasses import dataclass

from django.conf import settings

# Returns 0 when a token was taken, else the milliseconds to wait for the next one.
TAKE_TOKEN = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', key, 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', key, 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', key, math.ceil(capacity * 1000 / rate) + 60000)
return wait
"""


@dataclass(frozen=True)
class Bucket:
    key: str
    rate: float  # tokens per second
    capacity: float = 1.0  # no bursts beyond one call: carriers count per second


_script = None
_local_lock = threading.Lock()
_local_state: dict[str, tuple[float, float]] = {}


def _redis_take(bucket: Bucket) -> float:
    global _script
    if _script is None:
        import redis

        _script = redis.Redis.from_url(settings.REDIS_URL).register_script(TAKE_TOKEN)
    now_ms = int(time.time() * 1000)
    wait_ms = _script(
        keys=[f"voiceops:pacing:{bucket.key}"], args=[bucket.rate, bucket.capacity, now_ms]
    )
    return int(wait_ms) / 1000


def _local_take(bucket: Bucket) -> float:
    with _local_lock:
        now = time.monotonic()
        tokens, at = _local_state.get(bucket.key, (bucket.capacity, now))
        tokens = min(bucket.capacity, tokens + (now - at) * bucket.rate)
        if tokens >= 1:
            _local_state[bucket.key] = (tokens - 1, now)
            return 0.0
        _local_state[bucket.key] = (tokens, now)
        return (1 - tokens) / bucket.rate


def take_token(bucket: Bucket) -> float:
    """Take a token if one is free and return 0; otherwise return the seconds to wait."""
    return _redis_take(bucket) if settings.REDIS_URL else _local_take(bucket)


def wait_for_token(bucket: Bucket, *, max_wait: float) -> bool:
    """Block until a token is taken (True) or `max_wait` seconds would be exceeded (False)."""
    deadline = time.monotonic() + max_wait
    while True:
        wait = take_token(bucket)
        if wait == 0:
            return True
        if time.monotonic() + wait > deadline:
            return False
        time.sleep(wait)
