"""The caller's audio reaches the model intact through frames written straight to the socket,
and a stalled model pushes back instead of the bridge buffering audio without bound."""

import asyncio

import pytest
from websockets.asyncio.server import serve
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from agents.audio_frames import MaskPool, client_text_frame
from agents.realtime import RealtimeSession, RealtimeUnavailable

PAYLOAD = "//79/fz7" * 27  # 20 ms of μ-law is 216 base64 characters


def append_event(payload: str) -> str:
    return '{"type":"input_audio_buffer.append","audio":"' + payload + '"}'


def parsed(data: bytes) -> Frame:
    """The frame as a server reads it (websockets' own parser, which unmasks)."""
    reader = StreamReader()
    reader.feed_data(data)
    parser = Frame.parse(reader.read_exact, mask=True)
    try:
        while True:
            next(parser)
    except StopIteration as done:
        return done.value


@pytest.mark.parametrize("length", [0, 1, 125, 126, 65535, 65536, 70000])
def test_a_frame_reads_back_as_the_text_it_carries_at_every_length_encoding(length):
    text = ("é" * length).encode()[:length]  # UTF-8, cut at a byte count
    text = text.decode(errors="ignore").encode()
    frame = parsed(client_text_frame(text, b"\x12\x34\x56\x78"))
    assert (frame.opcode, frame.fin, frame.data) == (Opcode.TEXT, True, text)


def test_masks_are_fresh_and_the_pool_refills():
    masks = MaskPool(size=8)
    taken = [masks.take() for _ in range(6)]
    assert all(len(mask) == 4 for mask in taken)
    assert len(set(taken)) == 6  # 2**32 masks: six repeats would be a broken source


async def model_stand_in(handler):
    server = await serve(handler, "127.0.0.1", 0, max_queue=1)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/v1"


async def test_the_model_receives_every_append_in_order():
    received = []
    done = asyncio.Event()

    async def handler(websocket):
        async for message in websocket:
            received.append(message)
            if len(received) == 500:
                done.set()

    server, url = await model_stand_in(handler)
    async with server:
        session = await RealtimeSession.open(base_url=url, api_key="k", model="m")
        payloads = [f"{index:04d}" + PAYLOAD for index in range(500)]
        for payload in payloads:
            await session.append_audio(payload)
        await asyncio.wait_for(done.wait(), 10)
        await session.close()

    assert received == [append_event(payload) for payload in payloads]


async def test_a_closed_model_session_says_so_on_the_next_append():
    async def handler(websocket):
        await websocket.close(1011, "gone")

    server, url = await model_stand_in(handler)
    async with server:
        session = await RealtimeSession.open(base_url=url, api_key="k", model="m")
        await session._websocket.wait_closed()
        with pytest.raises(RealtimeUnavailable) as raised:
            await session.append_audio(PAYLOAD)
    assert raised.value.close_code == 1011


async def test_a_stalled_model_pushes_back_instead_of_buffering_audio_without_bound():
    release = asyncio.Event()

    async def handler(websocket):
        await release.wait()  # reads nothing until released
        async for _ in websocket:
            pass

    frame_bytes = len(client_text_frame(append_event(PAYLOAD).encode(), b"mask"))
    server, url = await model_stand_in(handler)
    async with server:
        session = await RealtimeSession.open(base_url=url, api_key="k", model="m")
        sent = 0
        progressed = asyncio.Event()

        async def keep_sending():
            nonlocal sent
            while True:
                await session.append_audio(PAYLOAD)
                sent += 1
                progressed.set()

        sender = asyncio.create_task(keep_sending())
        try:
            last = -1
            while sent != last:  # until the sender is held up
                last = sent
                await asyncio.sleep(0.2)
            transport = session._websocket.transport
            _low, high = transport.get_write_buffer_limits()
            # Past the mark by at most the frame that crossed it and the one `send` writes
            # before it waits, as the library itself does.
            assert transport.get_write_buffer_size() <= high + 2 * frame_bytes
            assert not sender.done()

            progressed.clear()
            release.set()  # the model reads again: the sender goes on
            await asyncio.wait_for(progressed.wait(), 10)
        finally:
            sender.cancel()
            await session.close()
