"""The web process: admin, API, Twilio webhooks and every WebSocket, served by uvicorn.

`python -m voiceops.web [--host 0.0.0.0] [--port 8000] [--workers 1]`

uvicorn on uvloop with httptools and its sans-I/O `websockets` protocol relays a call's media
with less CPU than daphne, or than uvicorn's older `websockets` protocol, under the same
load (README, "Benchmarks"). Several workers share one
listening socket, and the kernel hands each new connection to one of them; a call's media
socket lives in one process, and everything the processes share is in PostgreSQL and Redis.
"""

import argparse

import uvicorn

APPLICATION = "voiceops.asgi:application"


def web_server_arguments(*, host: str, port: int, workers: int = 1) -> list[str]:
    """`python -m` arguments that start the web process (the demo and the test stack)."""
    return ["voiceops.web", "--host", host, "--port", str(port), "--workers", str(workers)]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m voiceops.web", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--workers", type=int, default=1, help="processes sharing the port (one per core)"
    )
    parser.add_argument(
        "--ws",
        default="websockets-sansio",
        choices=["websockets", "websockets-sansio"],
        help="uvicorn's WebSocket protocol implementation",
    )
    arguments = parser.parse_args()
    uvicorn.run(
        APPLICATION,
        host=arguments.host,
        port=arguments.port,
        workers=arguments.workers,
        loop="uvloop",
        http="httptools",
        ws=arguments.ws,
        # Twilio does not compress media frames; compressing ours would only cost CPU.
        ws_per_message_deflate=False,
        lifespan="off",
        log_level="warning",
    )


if __name__ == "__main__":
    main()
