"""The floor of the bridge benchmark: a minimal Twilio Media Streams <-> Realtime
pass-through on plain `websockets` (asyncio implementation, no framework). Each message is
JSON-parsed and re-serialised as a typical bridge does; a mark follows every agent chunk;
`clear` on speech_started while agent audio is unplayed; the model is asked to speak first.
Nothing else: no token, no signature, no state, no database. It shows what relaying costs
in Python before any feature, so `python -m bench.bridge --compare` can put VoiceOps beside it:

    python -m bench.bridge_floor --port P --model-url ws://127.0.0.1:M/v1/realtime --api-key K
"""

import argparse
import asyncio
import gc
import json
from functools import partial

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

dumps = partial(json.dumps, separators=(",", ":"))  # as Starlette's send_json

SESSION = {
    "type": "session.update",
    "session": {
        "type": "realtime",
        "output_modalities": ["audio"],
        "audio": {
            "input": {"format": {"type": "audio/pcmu"}, "turn_detection": {"type": "server_vad"}},
            "output": {"format": {"type": "audio/pcmu"}},
        },
        "instructions": "Be brief.",
    },
}


async def bridge(twilio, model_url: str, api_key: str) -> None:
    async with connect(
        model_url + "?model=gpt-realtime",
        additional_headers={"Authorization": f"Bearer {api_key}"},
        compression=None,
        ping_interval=None,
    ) as model:
        await model.send(dumps(SESSION))
        await model.send(dumps({"type": "response.create"}))
        state = {"sid": None, "marks": 0}

        async def up():
            try:
                async for text in twilio:
                    data = json.loads(text)
                    event = data["event"]
                    if event == "media":
                        await model.send(
                            dumps(
                                {
                                    "type": "input_audio_buffer.append",
                                    "audio": data["media"]["payload"],
                                }
                            )
                        )
                    elif event == "mark":
                        state["marks"] = max(0, state["marks"] - 1)
                    elif event == "start":
                        state["sid"] = data["start"]["streamSid"]
                    elif event == "stop":
                        break
            except ConnectionClosed:
                pass
            await model.close()

        async def down():
            try:
                async for text in model:
                    data = json.loads(text)
                    kind = data["type"]
                    if kind == "response.output_audio.delta":
                        sid = state["sid"]
                        await twilio.send(
                            dumps(
                                {
                                    "event": "media",
                                    "streamSid": sid,
                                    "media": {"payload": data["delta"]},
                                }
                            )
                        )
                        await twilio.send(
                            dumps({"event": "mark", "streamSid": sid, "mark": {"name": "part"}})
                        )
                        state["marks"] += 1
                    elif kind == "input_audio_buffer.speech_started" and state["marks"]:
                        await twilio.send(dumps({"event": "clear", "streamSid": state["sid"]}))
                        state["marks"] = 0
            except ConnectionClosed:
                pass

        await asyncio.gather(up(), down())


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model-url", required=True)
    parser.add_argument("--api-key", required=True)
    arguments = parser.parse_args()
    gc.collect()
    gc.freeze()
    async with serve(
        lambda ws: bridge(ws, arguments.model_url, arguments.api_key),
        "127.0.0.1",
        arguments.port,
        compression=None,
        ping_interval=None,
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
