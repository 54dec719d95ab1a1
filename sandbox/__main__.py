"""`python -m sandbox`: run the Twilio and OpenAI stand-ins on loopback until interrupted.

Prints the settings that point VoiceOps at them, one `NAME=value` per line (or one JSON
object with `--json`), so a shell can `export $(python -m sandbox | head -5)` or a test
can read the first line of output.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from sandbox.carrier import DEFAULT_NUMBER, Billing, Carrier
from sandbox.model import ModelServer


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--carrier-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--model-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--json", action="store_true", help="print the settings as JSON")
    parser.add_argument(
        "--number",
        action="append",
        metavar="NUMBER[=VOICE_URL]",
        help=f"a number the carrier owns, optionally with its inbound voice URL "
        f"(repeatable; default {DEFAULT_NUMBER})",
    )
    parser.add_argument("--calls-per-second", type=float, default=1.0)
    parser.add_argument("--recordings", type=Path, help="where call recordings and logs go")
    parser.add_argument(
        "--price-delay",
        type=float,
        default=Billing.price_delay_seconds,
        metavar="SECONDS",
        help="how long after a call ends its price appears, as Twilio's does "
        f"(default {Billing.price_delay_seconds:g})",
    )
    parser.add_argument(
        "--first-audio-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="how long the model takes to the first audio of each response, as a slow or "
        "overloaded model does (default 0; above 2 the agent abandons answered calls)",
    )
    return parser.parse_args(argv)


def owned_numbers(specs: list[str] | None) -> dict[str, str | None]:
    numbers: dict[str, str | None] = {}
    for spec in specs or [DEFAULT_NUMBER]:
        number, _, voice_url = spec.partition("=")
        numbers[number] = voice_url or None
    return numbers


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    carrier = Carrier(
        numbers=owned_numbers(arguments.number),
        calls_per_second=arguments.calls_per_second,
        recording_dir=arguments.recordings,
        billing=Billing(price_delay_seconds=arguments.price_delay),
    )
    model = ModelServer(first_audio_delay=arguments.first_audio_delay)
    stopping = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stopping.set())
    try:
        carrier.start(arguments.host, arguments.carrier_port)
        model.start(arguments.host, arguments.model_port)
        settings = {
            **carrier.environment(),
            "OPENAI_BASE_URL": model.openai_base_url,
            "OPENAI_API_KEY": model.api_key,
        }
        if arguments.json:
            print(json.dumps(settings), flush=True)
        else:
            print("\n".join(f"{name}={value}" for name, value in settings.items()), flush=True)
        print(
            f"sandbox running; numbers {', '.join(carrier.numbers)}; "
            f"recordings in {carrier.recording_dir}; Ctrl-C stops it",
            file=sys.stderr,
            flush=True,
        )
        stopping.wait()
    finally:
        model.stop()
        carrier.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
