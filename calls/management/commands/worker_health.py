"""A health check for Celery workers, for docker-compose, Kubernetes or a supervisor.

A worker that died or lost the broker would otherwise go unnoticed until a campaign stalls.
Exit status 0 when a worker answers over the broker and the workers that answer consume
every queue the product needs; 1, with the reason, otherwise.
"""

from django.core.management.base import BaseCommand, CommandError

from voiceops.celery import app

REQUIRED_QUEUES = frozenset({"default", "dial", "postcall"})


class Command(BaseCommand):
    help = (
        "Check that a Celery worker answers and that the workers consume the default, dial "
        "and postcall queues. Exits 1 when not, so that a supervisor can restart the worker."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--worker",
            help="Check only this worker node (for example celery@$HOSTNAME); default: any.",
        )
        parser.add_argument(
            "--timeout", type=float, default=5.0, help="Seconds to wait for answers (default 5)."
        )

    def handle(self, *args, worker=None, timeout=5.0, **options):
        destination = [worker] if worker else None
        try:
            replies = app.control.inspect(destination=destination, timeout=timeout).active_queues()
        except OSError as error:
            raise CommandError(f"The broker cannot be reached: {error}") from None
        if not replies:
            who = f"Worker {worker}" if worker else "No worker"
            raise CommandError(f"{who} answered within {timeout:g} s.")
        consumed = {queue["name"] for queues in replies.values() for queue in queues}
        missing = sorted(REQUIRED_QUEUES - consumed)
        if missing:
            raise CommandError(f"No worker consumes the queue(s): {', '.join(missing)}.")
        self.stdout.write(
            f"OK: {', '.join(sorted(replies))} consume {', '.join(sorted(consumed))}."
        )
