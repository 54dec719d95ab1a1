"""What a live call writes to the database, buffered and written in batches.

The media bridge never touches the database per audio frame: turns, events and token
usage collect in memory and go out in one short transaction about once a second and at
the end. Usage is added with `F()` expressions, so nothing else writing the call row
(status callbacks, tools) is overwritten.
"""

from dataclasses import dataclass, fields
from datetime import datetime

from channels.db import database_sync_to_async
from django.db import transaction
from django.db.models import F

from calls.costs import USAGE_COLUMNS, Usage
from calls.models import Call, CallEvent, Turn


@dataclass(frozen=True)
class PendingTurn:
    speaker: str
    text: str
    started_ms: int
    ended_ms: int | None
    interrupted: bool
    item_id: str


class CallLog:
    def __init__(self, call_id: int):
        self.call_id = call_id
        self._turns: list[PendingTurn] = []
        self._events: list[CallEvent] = []
        self._usage = Usage()
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
    ) -> None:
        started_ms = max(0, started_ms)
        if ended_ms is not None:
            ended_ms = max(started_ms, ended_ms)
        self._turns.append(PendingTurn(speaker, text, started_ms, ended_ms, interrupted, item_id))

    def event(self, kind: str, *, at: datetime, **data) -> None:
        self._events.append(CallEvent(call_id=self.call_id, at=at, kind=kind, data=data))

    def usage(self, usage: Usage) -> None:
        self._usage = self._usage + usage
        self.usage_total = self.usage_total + usage

    @property
    def is_empty(self) -> bool:
        return not (self._turns or self._events or any(vars(self._usage).values()))

    def _take(self):
        taken = self._turns, self._events, self._usage
        self._turns, self._events, self._usage = [], [], Usage()
        return taken

    async def flush(self, **call_fields) -> None:
        """Write what has collected (and `call_fields` on the call row) in one transaction."""
        if self.is_empty and not call_fields:
            return
        turns, events, usage = self._take()
        await _write(self.call_id, turns, events, usage, call_fields)


@database_sync_to_async
def _write(call_id, turns, events, usage: Usage, call_fields: dict) -> None:
    counters = {
        USAGE_COLUMNS[field.name]: F(USAGE_COLUMNS[field.name]) + getattr(usage, field.name)
        for field in fields(usage)
        if getattr(usage, field.name)
    }
    with transaction.atomic():
        if turns:
            Turn.objects.bulk_create(
                Turn(
                    call_id=call_id,
                    speaker=turn.speaker,
                    text=turn.text,
                    started_ms=turn.started_ms,
                    ended_ms=turn.ended_ms,
                    interrupted=turn.interrupted,
                    item_id=turn.item_id,
                )
                for turn in turns
            )
        if events:
            CallEvent.objects.bulk_create(events)
        if counters or call_fields:
            Call.objects.filter(pk=call_id).update(**counters, **call_fields)
