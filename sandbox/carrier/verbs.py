"""Running TwiML on an answered call: fetch the document, then each verb in turn.

`<Connect><Stream>` holds the call until the app closes the socket, then the next verb runs;
`<Say>` is synthesised and played to the callee; `<Dial>` is recorded as a transfer and ends
the sandbox call; `<Redirect>` fetches the next document; `<Hangup/>` or the end of the
document ends the call. A document that cannot be fetched or parsed ends the call as
Twilio does ("an application error has occurred").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp

from sandbox import speech
from sandbox.carrier import twiml
from sandbox.carrier.callbacks import CallbackQueue, WebhookClient, WebhookFailed
from sandbox.carrier.calls import Call, RecordingRequest, rfc2822
from sandbox.carrier.line import PhoneLine
from sandbox.carrier.media import MediaStream, StreamConnectFailed
from sandbox.carrier.playback import PlaybackQueue

# Why a document stopped running; the call then ends.
ENDED_BY_HANGUP = "twiml-hangup"
ENDED_BY_DOCUMENT_END = "twiml-end"
ENDED_BY_DIAL = "dial"
ENDED_BY_APP_ERROR = "app-error"


@dataclass(frozen=True)
class DocumentSource:
    """Where the call's next TwiML comes from: a URL to fetch, or the document itself."""

    url: str | None = None
    method: str = "POST"
    twiml: str | None = None


class SayPlayer:
    """A phone-line endpoint that plays synthesised speech once."""

    def __init__(self, audio: bytes):
        self.playback = PlaybackQueue()
        self.playback.enqueue(audio)
        self.finished = asyncio.Event()

    def exchange(self, caller_frame: bytes, at_ms: int) -> bytes:
        played, _ = self.playback.play_frame()
        if not self.playback.pending_bytes:
            self.finished.set()
        return played

    def press(self, digit: str, at_ms: int) -> None:
        pass


class TwimlRunner:
    def __init__(
        self,
        *,
        call: Call,
        line: PhoneLine,
        session: aiohttp.ClientSession,
        webhooks: WebhookClient,
        callbacks: CallbackQueue,
        auth_token: str,
        call_parameters: Callable[[], Mapping[str, str]],
    ):
        self.call = call
        self.line = line
        self.session = session
        self.webhooks = webhooks
        self.callbacks = callbacks
        self.auth_token = auth_token
        self.call_parameters = call_parameters

    async def run(self, source: DocumentSource, *, document: str | None = None) -> str:
        """Run `source` (already fetched as `document`, if given) and every redirect after it;
        returns why the call should end.
        """
        next_source: DocumentSource | None = source
        while next_source is not None:
            text = document if document is not None else await self._fetch(next_source)
            document = None
            if text is None:
                return ENDED_BY_APP_ERROR
            try:
                verbs = twiml.parse(text, base_url=next_source.url)
            except twiml.TwimlError as error:
                self.call.note(
                    "twiml", "note", "application error", code=error.code, error=str(error)
                )
                return ENDED_BY_APP_ERROR
            self.call.note("twiml", "note", "document", verbs=[type(v).__name__ for v in verbs])
            next_source, ended_by = await self._run_verbs(verbs)
            if ended_by is not None:
                return ended_by
        return ENDED_BY_DOCUMENT_END

    async def _fetch(self, source: DocumentSource) -> str | None:
        if source.twiml is not None:
            return source.twiml
        assert source.url is not None
        try:
            response = await self.webhooks.send(
                self.call, "answer webhook", source.url, self.call_parameters(), source.method
            )
        except WebhookFailed:
            self.call.note("twiml", "note", "application error", code=11200)
            return None
        if not response.is_success:
            self.call.note("twiml", "note", "application error", code=11200, status=response.status)
            return None
        return response.text

    async def _run_verbs(self, verbs: list[twiml.Verb]) -> tuple[DocumentSource | None, str | None]:
        for verb in verbs:
            self.call.note("twiml", "note", "verb", verb=repr(verb))
            match verb:
                case twiml.Connect(stream=stream):
                    await self._connect(stream)
                case twiml.StartRecording():
                    self.call.recording = RecordingRequest(
                        channels=verb.channels,
                        status_callback=verb.status_callback,
                        status_callback_method=verb.status_callback_method,
                        status_callback_events=frozenset(verb.status_callback_events),
                        source="StartCallRecordingTwiML",
                    )
                case twiml.Say(text=text):
                    await self._say(text)
                case twiml.Pause(seconds=seconds):
                    await asyncio.sleep(seconds)
                case twiml.Dial(number=number):
                    self.call.transfer_target = number
                    return None, ENDED_BY_DIAL
                case twiml.Redirect(url=url, method=method):
                    return DocumentSource(url=url, method=method), None
                case twiml.Hangup():
                    return None, ENDED_BY_HANGUP
                case twiml.Unsupported(verb=name):
                    self.call.note("twiml", "note", "unsupported verb skipped", verb=name)
        return None, ENDED_BY_DOCUMENT_END

    async def _connect(self, stream: twiml.Stream) -> None:
        media = MediaStream(
            call=self.call,
            line=self.line,
            stream=stream,
            session=self.session,
            auth_token=self.auth_token,
        )
        media.on_started = lambda: self._stream_event(stream, media, "stream-started")
        try:
            await media.run()
        except StreamConnectFailed as error:
            # Twilio moves on to the next verb when the stream cannot be opened.
            self.call.note("twiml", "note", "stream error", error=str(error))
            self._stream_event(stream, media, "stream-error", error=str(error))
        finally:
            if media.has_started:
                self._stream_event(stream, media, "stream-stopped")

    def _stream_event(
        self, stream: twiml.Stream, media: MediaStream, event: str, error: str | None = None
    ) -> None:
        if not stream.status_callback:
            return
        params = {
            "AccountSid": self.call.account_sid,
            "CallSid": self.call.sid,
            "StreamSid": media.stream_sid,
            "StreamName": stream.name or media.stream_sid,
            "StreamEvent": event,
            "Timestamp": rfc2822(datetime.now(UTC)) or "",
        }
        if error:
            params["StreamError"] = error
        self.callbacks.post("stream status callback", stream.status_callback, params)

    async def _say(self, text: str) -> None:
        audio = await asyncio.to_thread(speech.synthesize, text)
        player = SayPlayer(audio)
        self.line.attach(player)
        try:
            await player.finished.wait()
        finally:
            self.line.detach(player)
