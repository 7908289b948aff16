"""Queue N confirmation emails at once, through the real sign service.

`python -m bench.burst --slug S --prefix P --count N` calls
`letters.services.signature_create` N times inside one transaction, so the N
emails are owed together when it commits (the service asks for a sender on
commit).  The runner then times how fast the Celery worker gets them to the
SMTP sink: the email capacity of the pipeline, with
nothing else running.  Prints one JSON line: the CLOCK_MONOTONIC time of the
commit (the same clock as the runner's time.monotonic on Linux).
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slug", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()

    from django.db import transaction

    from letters import services
    from letters.models import Letter

    letter = Letter.objects.get(slug=args.slug)
    started = time.monotonic()
    with transaction.atomic():
        for n in range(args.count):
            services.signature_create(
                letter=letter,
                email=f"{args.prefix}-{n}@bench.example",
                name=f"Burst Signer {n}",
                team="Engineering",
                location="Berlin",
            )
        committing = time.monotonic()
    enqueued = time.monotonic()  # on-commit callbacks (the enqueues) have run
    print(
        json.dumps(
            {
                "created_s": committing - started,
                "committing_at": committing,
                "enqueued_at": enqueued,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
