"""A Salesforce stand-in for tests: a small HTTPS server speaking Salesforce's API.

It serves, under ``/services/data/vXX.X/`` for any version: SOQL queries with
paging (``query/``, ``queryAll/`` and their ``nextRecordsUrl`` locators),
sObject Collections updates (``PATCH composite/sobjects``, at most 200 records)
and retrieval (``GET composite/sobjects/<Type>``), single-record ``GET`` and
``PATCH sobjects/<Type>/<Id>``, Bulk API 2.0 ingest update jobs,
``limits/`` and Composite Batch (``POST composite/batch``, whose subrequests
run through the same handlers as direct calls). It also serves the OAuth 2.0
token endpoint (``POST /services/oauth2/token``, password,
client_credentials and JWT bearer grants; set ``standin.api.jwt_public_key``
to the connected app's public key for the last) and the SOAP ``login`` call
(``POST /services/Soap/u/<version>``). Every answer carries
``Sforce-Limit-Info: api-usage=N/M``. Records live in memory
(``standin.store``); requests are counted by kind (``standin.counts``) and
logged (``standin.requests``); faults are scheduled on ``standin.faults``.

Pointing simple-salesforce at it
--------------------------------

With a session token (no login)::

    with SalesforceStandin() as standin:
        contact_id = standin.store.add_contact(Email="ada@example.com")
        sf = Salesforce(
            instance_url=standin.instance_url,   # https://127.0.0.1:<port>
            session_id=standin.issue_session(),
            session=standin.session(),           # requests.Session, verify=CA
        )
        # or simply: sf = standin.client()

With a login (so that simple-salesforce re-logs in after INVALID_SESSION_ID):
simple-salesforce builds its login URLs as ``https://{domain}.salesforce.com/
services/Soap/u/<version>`` (username, password and security token) and
``https://{domain}.salesforce.com/services/oauth2/token`` (connected-app
flows), with ``domain`` defaulting to ``login``. The session from
``standin.session()`` rewrites any ``*.salesforce.com`` URL to the stand-in
before sending, so no DNS or /etc/hosts change is needed::

    sf = Salesforce(
        username=standin.api.username,
        password=standin.api.password,
        security_token=standin.api.security_token,
        session=standin.session(),
    )
    # or simply: sf = standin.login_client()

The login answer names the stand-in as the instance (``serverUrl`` or
``instance_url``), so every later call goes to ``https://127.0.0.1:<port>``.
Code that does its own OAuth call can post to ``standin.token_url`` with
``verify=standin.ca_path``. Certificates come from a fresh trustme CA per
server; ``standin.ca_path`` is its PEM bundle. Never pass ``verify=False``.

Counting kinds: login, query, query_more, collections_patch, collections_get,
record_get, record_patch, bulk_create, bulk_upload, bulk_close (any job state
change), bulk_poll, bulk_results, bulk_delete, limits, composite_batch, unknown.
A Composite Batch request counts once, as composite_batch; its subrequests are
counted by kind in ``standin.subrequest_counts`` and listed on its log entry.

Run it as a process for benchmarks::

    python -m tests.salesforce_standin --port 0 --print-url --contacts 10000

prints one JSON line with ``instance_url``, ``ca_path`` and ``token``.
"""

from .endpoints import RequestRecord, SalesforceApi, SubrequestRecord
from .faults import FaultAction, FaultPlan, RecordFault, RequestFault
from .server import DEFAULT_API_VERSION, SalesforceStandin, StandinSession
from .soql import SoqlError, SoqlQuery, parse
from .store import (
    RecordError,
    RecordStore,
    format_datetime,
    make_salesforce_id,
    normalize_id,
    parse_datetime,
)

__all__ = [
    "DEFAULT_API_VERSION",
    "FaultAction",
    "FaultPlan",
    "RecordError",
    "RecordFault",
    "RecordStore",
    "RequestFault",
    "RequestRecord",
    "SalesforceApi",
    "SalesforceStandin",
    "SoqlError",
    "SoqlQuery",
    "StandinSession",
    "SubrequestRecord",
    "format_datetime",
    "make_salesforce_id",
    "normalize_id",
    "parse",
    "parse_datetime",
]
