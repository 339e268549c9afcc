"""Run the Salesforce stand-in as a process: python -m tests.salesforce_standin."""

import argparse
import json
import logging
import signal
import sys
import threading

from .server import SalesforceStandin

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Start the stand-in, seed records, print how to reach it and serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--contacts", type=int, default=0, help="Contacts to seed")
    parser.add_argument("--leads", type=int, default=0, help="Leads to seed")
    parser.add_argument("--query-batch-size", type=int, default=2000)
    parser.add_argument("--bulk-polls", type=int, default=1)
    parser.add_argument(
        "--print-url",
        action="store_true",
        help="print a JSON line with instance_url, ca_path and token on stdout",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)

    standin = SalesforceStandin(
        host=args.host,
        port=args.port,
        query_batch_size=args.query_batch_size,
        bulk_polls_until_complete=args.bulk_polls,
    )
    for number in range(args.contacts):
        standin.store.add_contact(
            Email=f"contact{number}@example.com",
            FirstName="Contact",
            LastName=str(number),
        )
    for number in range(args.leads):
        standin.store.add_lead(
            Email=f"lead{number}@example.com", LastName=str(number), Company="Acme"
        )

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    with standin:
        if args.print_url:
            details = {
                "instance_url": standin.instance_url,
                "ca_path": standin.ca_path,
                "token": standin.issue_session(),
                "token_url": standin.token_url,
                "username": standin.api.username,
                "password": standin.api.password,
                "security_token": standin.api.security_token,
                "client_id": standin.api.client_id,
                "client_secret": standin.api.client_secret,
            }
            print(json.dumps(details), flush=True)
        stop.wait()
        logger.info("stopping; request counts: %s", dict(standin.counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
