"""The app's side of a fault test, run as its own process on the private services.

    python -m tests.faults.driver <command> '<json arguments>'
    python -m tests.faults.driver serve     (then one JSON [command, arguments]
                                              per line on stdin, one answer out)

The fault tests restart PostgreSQL and stop Redis under the app, so the app's
code runs here, in a process configured like a web process (DATABASE_URL,
REDIS_URL from the environment), never inside the test process. Requests go
through Django's test client with DEBUG off and exceptions not re-raised: what
comes back is exactly what a user's browser would get. The answer is one line
of JSON on stdout.
"""

import json
import os
import re
import sys
import traceback

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesinsight.test_settings")

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402

REP = "rep"


def seed(*, contacts: int) -> dict:
    """Create the Sales rep and `contacts` contacts, Permission type Not set."""
    from accounts.roles import SALES_REP
    from accounts.services import user_create
    from contacts.models import Contact

    user_create(username=REP, password="rep-password-1", role=SALES_REP)
    Contact.objects.bulk_create(
        (
            Contact(
                first_name="Fault", last_name=f"Test {n}", email=f"p{n}@example.org"
            )
            for n in range(1, contacts + 1)
        ),
        batch_size=2000,
    )
    return {"contacts": Contact.objects.count()}


_clients: list[Client] = []


def _client() -> Client:
    """Return the Sales rep's browser, logged in once per driver process.

    Logging in needs Redis (the lockout counter); a rep who logged in before
    Redis went down keeps working, which is what the `login` command sets up.
    """
    if not _clients:
        client = Client(raise_request_exception=False)
        client.force_login(User.objects.get(username=REP))
        _clients.append(client)
    return _clients[0]


def login() -> dict:
    """Log the Sales rep in now, before a fault."""
    _client()
    return {}


def _answer(response) -> dict:
    body = response.content.decode(errors="replace")
    alerts = re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', body, re.S)
    return {
        "status": response.status_code,
        "location": response.get("Location", ""),
        "alerts": [re.sub(r"\s+", " ", alert).strip() for alert in alerts],
        "body": body,
    }


def post(*, path: str, data: dict, htmx: bool = False) -> dict:
    """POST as the Sales rep, as the browser's form (or its HTMX modal) would."""
    headers = {"HX-Request": "true"} if htmx else {}
    return _answer(_client().post(path, data, headers=headers))


def get(*, path: str) -> dict:
    """GET as the Sales rep."""
    return _answer(_client().get(path))


def unsubscribe_link(*, contact_id: int, one_click: bool = False) -> dict:
    """POST the public unsubscribe link of a contact, without cookies."""
    from unsubscribes.tokens import unsubscribe_token

    data = {"List-Unsubscribe": "One-Click"} if one_click else {}
    client = Client(raise_request_exception=False)
    return _answer(client.post(f"/u/{unsubscribe_token(contact_id)}/", data))


def send_task(*, name: str, args: list, copies: int = 1) -> dict:
    """Publish a task message `copies` times, as a duplicated delivery would."""
    from salesinsight.celery import app

    ids = [app.send_task(name, args=args).id for _ in range(copies)]
    return {"task_ids": ids}


def sweep() -> dict:
    """Run beat's sweep of stalled bulk jobs now, counting any unfinished job."""
    from contacts.tasks import bulk_jobs_sweep

    bulk_jobs_sweep(stalled_minutes=0)
    return {}


COMMANDS = {
    "seed": seed,
    "login": login,
    "post": post,
    "get": get,
    "unsubscribe_link": unsubscribe_link,
    "send_task": send_task,
    "sweep": sweep,
}


def serve() -> None:
    """Answer commands from stdin, one per line, sparing a start-up per command."""
    for line in sys.stdin:
        command, arguments = json.loads(line)
        try:
            answer = {"answer": COMMANDS[command](**arguments)}
        except Exception:
            answer = {"error": traceback.format_exc()}
        finally:
            # The test may restart PostgreSQL before the next command.
            connections.close_all()
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve()
    else:
        print(json.dumps(COMMANDS[sys.argv[1]](**json.loads(sys.argv[2]))))
