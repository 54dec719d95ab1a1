"""What a live call writes to the database, buffered and written in batches.

Nothing on a call's audio path touches the database. Each call's turns, events and token
usage collect in its `CallLog`; one `CallLogWriter` per process (per event loop) writes
every call's pending records in one transaction about once a second, from its own thread,
instead of one thread hop and transaction per call. Usage is added in the database
(`counter = counter + n`, every call's in one statement), so nothing else writing the call
row (status callbacks, tools) is overwritten.

A write that cannot reach the database (restart, failover, outage) puts everything back
and is retried with backoff, so a call's last turns and its `media_ended_at` are written
once the database is back, even after the call itself has gone.
"""

import asyncio
import logging
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import datetime

from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
    transaction,
)

from calls.costs import USAGE_COLUMNS, Usage
from calls.models import Call, CallEvent, Turn

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_SECONDS = 1.0
# While the database is unreachable, retries back off to this interval.
MAX_RETRY_INTERVAL_SECONDS = 5.0
# Errors that say "the database could not be reached", not "these rows are wrong".
UNREACHABLE_ERRORS = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class PendingTurn:
    speaker: str
    text: str
    started_ms: int
    ended_ms: int | None
    interrupted: bool
    item_id: str
    response_sent_ms: int | None = None
    response_played_ms: int | None = None


@dataclass
class PendingWrite:
    """One call's records not yet in the database."""

    call_id: int
    turns: list[PendingTurn] = field(default_factory=list)
    events: list[CallEvent] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    call_fields: dict = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.turns or self.events or self.call_fields or any(vars(self.usage).values()))


class CallLog:
    """One call's pending records; written by the process's `CallLogWriter`."""

    def __init__(self, call_id: int, *, writer: "CallLogWriter | None" = None):
        self.call_id = call_id
        self.writer = writer or call_log_writer()
        self._pending = PendingWrite(call_id)
        self.usage_total = Usage()

    def turn(
        self,
        *,
        speaker: str,
        text: str,
        started_ms: int,
        ended_ms: int | None = None,
        interrupted: bool = False,
        item_id: str = "",
        response_sent_ms: int | None = None,
        response_played_ms: int | None = None,
    ) -> None:
        started_ms = max(0, started_ms)
        if ended_ms is not None:
            ended_ms = max(started_ms, ended_ms)
        self._pending.turns.append(
            PendingTurn(
                speaker,
                text,
                started_ms,
                ended_ms,
                interrupted,
                item_id,
                response_sent_ms,
                response_played_ms,
            )
        )
        self.writer.mark_pending(self)

    def event(self, kind: str, *, at: datetime, **data) -> None:
        self._pending.events.append(CallEvent(call_id=self.call_id, at=at, kind=kind, data=data))
        self.writer.mark_pending(self)

    def usage(self, usage: Usage) -> None:
        self._pending.usage = self._pending.usage + usage
        self.usage_total = self.usage_total + usage
        self.writer.mark_pending(self)

    @property
    def is_empty(self) -> bool:
        return self._pending.is_empty

    def take(self) -> PendingWrite | None:
        """Hand the pending records to the writer (None if there are none)."""
        if self._pending.is_empty:
            return None
        taken, self._pending = self._pending, PendingWrite(self.call_id)
        return taken

    def put_back(self, taken: PendingWrite) -> None:
        """A write failed: its records go back in front of anything collected since."""
        later = self._pending
        self._pending = PendingWrite(
            self.call_id,
            turns=taken.turns + later.turns,
            events=taken.events + later.events,
            usage=taken.usage + later.usage,
            call_fields={**taken.call_fields, **later.call_fields},
        )

    async def flush(self, **call_fields) -> bool:
        """Write what has collected (and `call_fields` on the call row) now, with every other
        call's pending records. False if the database could not be reached: the records stay
        pending and the writer retries them until it can."""
        self._pending.call_fields.update(call_fields)
        self.writer.mark_pending(self)
        return await self.writer.write_now()


# One thread for every writer of the process: writes are serialised, and the thread keeps
# the database connection (subject to CONN_MAX_AGE) away from the request threads.
_write_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="call-log-writer")


class CallLogWriter:
    """Writes every pending call log of one event loop, batched, once per interval."""

    def __init__(self, *, interval: float = FLUSH_INTERVAL_SECONDS):
        self.interval = interval
        self._pending: dict[int, CallLog] = {}  # id(log) → log, in the order they filled
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    def mark_pending(self, log: CallLog) -> None:
        self._pending[id(log)] = log
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        delay = self.interval
        while self._pending:
            await asyncio.sleep(delay)
            written = await self.write_now()
            delay = self.interval if written else min(delay * 2, MAX_RETRY_INTERVAL_SECONDS)
        # Idle: no call of this process has anything to write; hold no connection meanwhile.
        await asyncio.get_running_loop().run_in_executor(_write_thread, connections.close_all)

    async def write_now(self) -> bool:
        """Write every call's pending records in one transaction. False (everything kept for
        the next attempt) if the database could not be reached."""
        async with self._lock:
            logs = list(self._pending.values())
            self._pending.clear()
            batch = [(log, taken) for log in logs if (taken := log.take()) is not None]
            if not batch:
                return True
            loop = asyncio.get_running_loop()
            try:
                refused = await loop.run_in_executor(
                    _write_thread, _write_batch, [taken for _, taken in batch]
                )
            except UNREACHABLE_ERRORS as error:
                for log, taken in batch:
                    log.put_back(taken)
                    self._pending[id(log)] = log
                logger.warning(
                    "The database is unreachable; %s calls' records kept for a retry: %s",
                    len(batch),
                    error,
                )
                return False
            for call_id in refused:
                logger.error("Call %s: its records were refused by the database", call_id)
            return True


def _write_batch(batch: list[PendingWrite]) -> list[int]:
    """Write the batch in one transaction; if the database refuses a row (not an outage),
    write call by call so one call's bad row costs only that call's records. Returns the
    ids of calls whose records were refused. Raises UNREACHABLE_ERRORS on an outage."""
    close_old_connections()
    try:
        try:
            with transaction.atomic():
                _write(batch)
            return []
        except UNREACHABLE_ERRORS:
            raise
        except DatabaseError:
            logger.exception("A batched call-log write was refused; writing call by call")
        refused = []
        for pending in batch:
            try:
                with transaction.atomic():
                    _write([pending])
            except UNREACHABLE_ERRORS:
                raise
            except DatabaseError:
                logger.exception("Call %s: its records could not be written", pending.call_id)
                refused.append(pending.call_id)
        return refused
    finally:
        close_old_connections()


def _write(batch: list[PendingWrite]) -> None:
    """Every call's turns in one insert, every call's events in another, every call's usage
    in one update, then one update per call that has fields to record (rare: a call's
    outcome or its end)."""
    turns = [
        Turn(
            call_id=pending.call_id,
            speaker=turn.speaker,
            text=turn.text,
            started_ms=turn.started_ms,
            ended_ms=turn.ended_ms,
            interrupted=turn.interrupted,
            item_id=turn.item_id,
            response_sent_ms=turn.response_sent_ms,
            response_played_ms=turn.response_played_ms,
        )
        for pending in batch
        for turn in pending.turns
    ]
    if turns:
        Turn.objects.bulk_create(turns)
    # Fresh instances: a failed attempt may have left primary keys on the old ones.
    events = [
        CallEvent(call_id=event.call_id, at=event.at, kind=event.kind, data=event.data)
        for pending in batch
        for event in pending.events
    ]
    if events:
        CallEvent.objects.bulk_create(events)
    usage_add([(pending.call_id, pending.usage) for pending in batch])
    for pending in batch:
        if pending.call_fields:
            Call.objects.filter(pk=pending.call_id).update(**pending.call_fields)


USAGE_NAMES = [column.name for column in fields(Usage)]
USAGE_ROWS_PER_STATEMENT = 500


def usage_add(usage_by_call: list[tuple[int, Usage]]) -> None:
    """Add each call's usage to its counters in one statement per 500 calls, as
    `counter = counter + n` in the database (so nothing else writing the row is overwritten).

    A flush at a hundred calls used to spend about a millisecond of Python per call building
    one ORM update each, in bursts that held the interpreter away from the media loop; one
    parameterised `UPDATE … FROM (VALUES …)` costs a fraction of that."""
    rows = [
        (call_id, *(getattr(usage, name) for name in USAGE_NAMES))
        for call_id, usage in usage_by_call
        if any(getattr(usage, name) for name in USAGE_NAMES)
    ]
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(Call._meta.db_table)
    key = quote(Call._meta.pk.column)
    columns = [quote(Call._meta.get_field(USAGE_COLUMNS[name]).column) for name in USAGE_NAMES]
    row_sql = "(" + ", ".join(["CAST(%s AS BIGINT)"] * (len(columns) + 1)) + ")"
    assignments = ", ".join(f"{column} = {table}.{column} + added.{column}" for column in columns)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), USAGE_ROWS_PER_STATEMENT):
            chunk = rows[start : start + USAGE_ROWS_PER_STATEMENT]
            cursor.execute(
                f"WITH added ({key}, {', '.join(columns)}) AS "
                f"(VALUES {', '.join([row_sql] * len(chunk))}) "
                f"UPDATE {table} SET {assignments} FROM added WHERE {table}.{key} = added.{key}",
                [value for row in chunk for value in row],
            )


_writers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CallLogWriter]" = (
    weakref.WeakKeyDictionary()
)


def call_log_writer() -> CallLogWriter:
    """The writer of the running event loop (one per process in a server)."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = CallLogWriter()
    return writer
