"""TwiML documents as the carrier runs them: parsed into a list of verbs.

Only the verbs a VoiceOps call uses are understood: `<Connect><Stream>` (with `<Parameter>`s),
`<Start><Recording>`, `<Say>`, `<Pause>`, `<Dial>` (to a number, for transfers), `<Redirect>`
and `<Hangup/>`.
Anything else is kept as `Unsupported` so the call log shows it was skipped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit


class TwimlError(ValueError):
    """The document is not TwiML the carrier can run (Twilio's error 12100 or 12200)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Stream:
    url: str
    name: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    status_callback: str | None = None
    status_callback_method: str = "POST"


@dataclass(frozen=True)
class Connect:
    stream: Stream


@dataclass(frozen=True)
class StartRecording:
    channels: str = "mono"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: tuple[str, ...] = ("completed",)


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class Pause:
    seconds: int


@dataclass(frozen=True)
class Dial:
    number: str


@dataclass(frozen=True)
class Redirect:
    url: str
    method: str = "POST"


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Unsupported:
    verb: str


Verb = Connect | StartRecording | Say | Pause | Dial | Redirect | Hangup | Unsupported

STREAM_SCHEMES = ("ws", "wss")


def parse(document: str, *, base_url: str | None = None) -> list[Verb]:
    """The verbs of a TwiML `<Response>`, relative URLs resolved against `base_url`."""
    try:
        root = ElementTree.fromstring(document.strip())
    except ElementTree.ParseError as error:
        raise TwimlError(12100, f"Document parse failure: {error}") from error
    if root.tag != "Response":
        raise TwimlError(12100, f"Document root is <{root.tag}>, not <Response>")
    return [_verb(element, base_url) for element in root]


def _verb(element: ElementTree.Element, base_url: str | None) -> Verb:
    match element.tag:
        case "Connect":
            streams = element.findall("Stream")
            if len(streams) != 1:
                raise TwimlError(12200, "<Connect> needs exactly one <Stream> in the sandbox")
            return Connect(_stream(streams[0], base_url))
        case "Start":
            recording = element.find("Recording")
            if recording is None:
                return Unsupported("Start")
            channels = recording.get("recordingChannels", "mono")
            if channels not in ("mono", "dual"):
                raise TwimlError(12200, f"<Recording> recordingChannels {channels!r}")
            events = recording.get("recordingStatusCallbackEvent", "completed")
            return StartRecording(
                channels=channels,
                status_callback=recording.get("recordingStatusCallback"),
                status_callback_method=recording.get(
                    "recordingStatusCallbackMethod", "POST"
                ).upper(),
                status_callback_events=tuple(events.replace(",", " ").split()),
            )
        case "Say":
            return Say((element.text or "").strip())
        case "Pause":
            return Pause(int(element.get("length", "1")))
        case "Dial":
            number = element.find("Number")
            target = number.text if number is not None else element.text
            if not target or not target.strip():
                raise TwimlError(12200, "<Dial> without a number")
            return Dial(target.strip())
        case "Redirect":
            if not element.text or not element.text.strip():
                raise TwimlError(12200, "<Redirect> without a URL")
            url = _absolute(element.text.strip(), base_url)
            return Redirect(url, element.get("method", "POST").upper())
        case "Hangup":
            return Hangup()
        case other:
            return Unsupported(other)


def _stream(element: ElementTree.Element, base_url: str | None) -> Stream:
    url = element.get("url")
    if not url:
        raise TwimlError(12200, "<Stream> without a url")
    url = _absolute(url, base_url, websocket=True)
    if urlsplit(url).scheme not in STREAM_SCHEMES:
        raise TwimlError(12200, f"<Stream> url must be ws:// or wss://, got {url}")
    parameters = {
        parameter.get("name", ""): parameter.get("value", "")
        for parameter in element.findall("Parameter")
    }
    return Stream(
        url=url,
        name=element.get("name"),
        parameters=parameters,
        status_callback=element.get("statusCallback"),
        status_callback_method=element.get("statusCallbackMethod", "POST").upper(),
    )


def _absolute(url: str, base_url: str | None, *, websocket: bool = False) -> str:
    if urlsplit(url).scheme or base_url is None:
        return url
    resolved = urljoin(base_url, url)
    if websocket:
        resolved = resolved.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return resolved
