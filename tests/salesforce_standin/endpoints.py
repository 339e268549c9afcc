"""The Salesforce REST, Bulk API 2.0 and login endpoints, independent of HTTP plumbing.

``SalesforceApi.handle`` takes an ``ApiRequest`` and returns an ``ApiResponse``;
the server module feeds it from sockets. Shapes follow Salesforce's REST API
reference: errors are JSON lists of ``{"message", "errorCode"}`` objects, save
results are ``{"id", "success", "errors"}`` (a failed result carries no id, as
in Salesforce, so clients must match results to records by position).

A Composite Batch request (``POST composite/batch``) runs each subrequest
through the same handlers as a direct call and answers
``{"hasErrors", "results": [{"statusCode", "result"}]}``. As in Salesforce,
each subrequest counts against the API request limit and the batch itself does
not; for the request counts it is one request of kind ``composite_batch``, and
its subrequests are listed on its log entry and in ``subrequest_counts``.
"""

import base64
import csv
import io
import itertools
import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from . import soql
from .faults import ConnectionResetRequested, FaultAction, FaultPlan, RequestFault
from .store import (
    KEY_PREFIXES,
    RecordError,
    RecordStore,
    UnknownFieldError,
    format_datetime,
    make_salesforce_id,
    normalize_id,
)

JSON_TYPE = "application/json;charset=UTF-8"
CSV_TYPE = "text/csv"
XML_TYPE = "text/xml;charset=UTF-8"

MAX_COLLECTION_RECORDS = 200
MIN_QUERY_BATCH_SIZE = 200
MAX_QUERY_BATCH_SIZE = 2000
MAX_BATCH_SUBREQUESTS = 25
# Composite Batch takes subrequests from API version 34.0 up to its own version.
MIN_BATCH_VERSION = 34.0
# The resources Composite Batch accepts, among those the stand-in serves.
BATCHABLE_KINDS = frozenset(
    {"query", "query_more", "limits", "record_get", "record_patch"}
)

ORG_ID = make_salesforce_id("00D", 4242)

# Credentials the stand-in accepts unless a test passes others.
DEFAULT_USERNAME = "sync@salesinsight.test"
DEFAULT_PASSWORD = "standin-password"
DEFAULT_SECURITY_TOKEN = "StandinSecurityToken"
DEFAULT_CLIENT_ID = "standin-consumer-key"
DEFAULT_CLIENT_SECRET = "standin-consumer-secret"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# The audiences Salesforce takes in a JWT bearer assertion besides an org's
# own login URL: production and sandbox logins.
JWT_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
USER_ID = make_salesforce_id("005", 4242)

_DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}


@dataclass
class ApiRequest:
    """One HTTP request as the endpoints see it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""

    def param(self, name: str) -> str | None:
        """Return the first value of a query-string parameter."""
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        """Return a header value, matching the name case-insensitively."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass
class ApiResponse:
    """One HTTP answer."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    subrequests: list["SubrequestRecord"] = field(default_factory=list)


@dataclass(frozen=True)
class SubrequestRecord:
    """One subrequest of a Composite Batch request, as its log entry lists it."""

    kind: str
    method: str
    path: str
    status: int
    fault: str | None


@dataclass(frozen=True)
class RequestRecord:
    """One entry of the request log."""

    kind: str
    method: str
    path: str
    status: int | None
    fault: str | None
    at: float
    subrequests: tuple[SubrequestRecord, ...] = ()


def json_response(status: int, payload: Any) -> ApiResponse:
    """Answer with a JSON body."""
    return ApiResponse(status, json.dumps(payload).encode(), JSON_TYPE)


def error_response(
    status: int, error_code: str, message: str, fields: list[str] | None = None
) -> ApiResponse:
    """Answer with Salesforce's error list shape."""
    error: dict[str, Any] = {"message": message, "errorCode": error_code}
    if fields is not None:
        error["fields"] = fields
    return json_response(status, [error])


def not_found() -> ApiResponse:
    """Answer 404 the way Salesforce does for an unknown resource."""
    return error_response(404, "NOT_FOUND", "The requested resource does not exist")


def _render(value: Any) -> Any:
    return format_datetime(value) if isinstance(value, datetime) else value


def _now_iso() -> str:
    return format_datetime(datetime.now().astimezone())


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    kind: str
    handler: str


def _route(method: str, pattern: str, kind: str, handler: str) -> _Route:
    return _Route(method, re.compile(pattern + r"/?$"), kind, handler)


_DATA = r"^/services/data/v(?P<version>\d+\.\d+)/"

_ROUTES = [
    _route("POST", r"^/services/oauth2/token", "login", "oauth_token"),
    _route(
        "POST", r"^/services/Soap/u/(?P<version>\d+\.\d+)(/[^/]*)?", "login", "soap"
    ),
    _route("GET", _DATA + r"(?P<endpoint>query|queryAll)", "query", "query"),
    _route(
        "GET",
        _DATA + r"(?P<endpoint>query|queryAll)/(?P<locator>[A-Za-z0-9]+-\d+)",
        "query_more",
        "query_more",
    ),
    _route("PATCH", _DATA + r"composite/sobjects", "collections_patch", "collections"),
    _route(
        "GET",
        _DATA + r"composite/sobjects/(?P<sobject>\w+)",
        "collections_get",
        "collections_get",
    ),
    _route(
        "PATCH",
        _DATA + r"sobjects/(?P<sobject>\w+)/(?P<record_id>\w+)",
        "record_patch",
        "record_patch",
    ),
    _route(
        "GET",
        _DATA + r"sobjects/(?P<sobject>\w+)/(?P<record_id>\w+)",
        "record_get",
        "record_get",
    ),
    _route("POST", _DATA + r"jobs/ingest", "bulk_create", "bulk_create"),
    _route(
        "PUT",
        _DATA + r"jobs/ingest/(?P<job_id>\w+)/batches",
        "bulk_upload",
        "bulk_upload",
    ),
    _route("PATCH", _DATA + r"jobs/ingest/(?P<job_id>\w+)", "bulk_close", "bulk_state"),
    _route("GET", _DATA + r"jobs/ingest/(?P<job_id>\w+)", "bulk_poll", "bulk_poll"),
    _route(
        "DELETE", _DATA + r"jobs/ingest/(?P<job_id>\w+)", "bulk_delete", "bulk_delete"
    ),
    _route(
        "GET",
        _DATA
        + r"jobs/ingest/(?P<job_id>\w+)/"
        + r"(?P<result>successfulResults|failedResults|unprocessedrecords)",
        "bulk_results",
        "bulk_results",
    ),
    _route("GET", _DATA + r"limits", "limits", "limits"),
    _route("POST", _DATA + r"composite/batch", "composite_batch", "composite_batch"),
]


@dataclass
class _BulkJob:
    id: str
    operation: str
    sobject: str
    api_version: str
    line_ending: str
    column_delimiter: str
    created: str
    state: str = "Open"
    uploads: list[str] = field(default_factory=list)
    polls: int = 0
    error_message: str | None = None
    header: list[str] = field(default_factory=list)
    successes: list[tuple[str, list[str]]] = field(default_factory=list)
    failures: list[tuple[str, str, list[str]]] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        processed = len(self.successes) + len(self.failures)
        info: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.sobject,
            "createdById": USER_ID,
            "createdDate": self.created,
            "systemModstamp": _now_iso(),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "jobType": "V2Ingest",
            "contentUrl": (
                f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches"
            ),
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
            "numberRecordsProcessed": processed,
            "numberRecordsFailed": len(self.failures),
            "retries": 0,
            "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "apexProcessingTime": 0,
        }
        if self.error_message:
            info["errorMessage"] = self.error_message
        return info


class SalesforceApi:
    """Answer Salesforce API requests from an in-memory store, counting each call."""

    def __init__(
        self,
        store: RecordStore,
        faults: FaultPlan,
        instance_url: Callable[[], str],
        *,
        query_batch_size: int = 2000,
        bulk_polls_until_complete: int = 1,
        api_request_limit: int = 15000,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        security_token: str = DEFAULT_SECURITY_TOKEN,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
    ) -> None:
        self.store = store
        self.faults = faults
        self.instance_url = instance_url
        self.query_batch_size = query_batch_size
        self.bulk_polls_until_complete = bulk_polls_until_complete
        self.api_request_limit = api_request_limit
        self.username = username
        self.password = password
        self.security_token = security_token
        self.client_id = client_id
        self.client_secret = client_secret
        # The connected app's certificate (a PEM public key) that JWT bearer
        # assertions must be signed for; None: the org has none, as by default.
        self.jwt_public_key: str | None = None

        self._lock = threading.RLock()
        self._serial = itertools.count(1)
        self._sessions: set[str] = set()
        self._cursors: dict[str, list[dict[str, Any]]] = {}
        self._jobs: dict[str, _BulkJob] = {}
        self._counts: Counter[str] = Counter()
        self._subrequest_counts: Counter[str] = Counter()
        self._log: list[RequestRecord] = []
        self.api_requests_used = 0
        # How a slow fault waits; the server swaps in its stop event's wait.
        self.wait: Callable[[float], object] = time.sleep

    # -- sessions, counting and logging ---------------------------------------

    def issue_session(self) -> str:
        """Create a session token valid for the data API."""
        token = f"{ORG_ID[:15]}!AQ{secrets.token_urlsafe(72)}"
        with self._lock:
            self._sessions.add(token)
        return token

    def revoke_session(self, token: str | None) -> None:
        """Invalidate one session token so that the client must log in again."""
        with self._lock:
            self._sessions.discard(token or "")

    def revoke_all_sessions(self) -> None:
        """Invalidate every issued session token."""
        with self._lock:
            self._sessions.clear()

    def is_valid_session(self, token: str | None) -> bool:
        """Tell whether a session token is currently accepted."""
        with self._lock:
            return token in self._sessions

    def classify(self, method: str, path: str) -> tuple[str, _Route | None, dict]:
        """Return the request kind, its route and the path parameters."""
        for route in _ROUTES:
            match = route.pattern.match(path)
            if match and route.method == method:
                return route.kind, route, match.groupdict()
        return "unknown", None, {}

    def log_request(self, kind: str, method: str, path: str, fault: str | None) -> int:
        """Count a request and append it to the log; return its log index."""
        with self._lock:
            self._counts[kind] += 1
            self._log.append(
                RequestRecord(kind, method, path, None, fault, time.time())
            )
            return len(self._log) - 1

    def log_status(
        self,
        index: int,
        status: int | None,
        subrequests: list[SubrequestRecord] | None = None,
    ) -> None:
        """Record the status a request was answered with, and its subrequests."""
        subrequests = subrequests or []
        with self._lock:
            entry = self._log[index]
            self._log[index] = RequestRecord(
                entry.kind,
                entry.method,
                entry.path,
                status,
                entry.fault,
                entry.at,
                tuple(subrequests),
            )
            self._subrequest_counts.update(sub.kind for sub in subrequests)

    @property
    def counts(self) -> Counter[str]:
        """Return a copy of the per-kind request counts."""
        with self._lock:
            return Counter(self._counts)

    @property
    def subrequest_counts(self) -> Counter[str]:
        """Return a copy of the per-kind counts of Composite Batch subrequests."""
        with self._lock:
            return Counter(self._subrequest_counts)

    @property
    def requests(self) -> list[RequestRecord]:
        """Return a copy of the request log."""
        with self._lock:
            return list(self._log)

    def limit_info(self) -> str:
        """Return the Sforce-Limit-Info header value."""
        return f"api-usage={self.api_requests_used}/{self.api_request_limit}"

    def reset(self) -> None:
        """Forget counts, log, cursors, jobs and API usage (sessions stay valid)."""
        with self._lock:
            self._counts.clear()
            self._subrequest_counts.clear()
            self._log.clear()
            self._cursors.clear()
            self._jobs.clear()
            self.api_requests_used = 0

    # -- dispatch --------------------------------------------------------------

    def answer(self, request: ApiRequest, fault: RequestFault | None) -> ApiResponse:
        """Answer one request, or let the fault that caught it answer instead.

        A ``connection_reset`` fault raises ConnectionResetRequested.
        """
        if fault is None:
            return self.handle(request)
        if fault.action is FaultAction.CONNECTION_RESET:
            raise ConnectionResetRequested
        if fault.action is FaultAction.SLOW:
            self.wait(fault.delay)
            return self.handle(request)
        if fault.action is FaultAction.INVALID_SESSION:
            self.revoke_session(self.bearer_token(request))
            return error_response(
                401, "INVALID_SESSION_ID", "Session expired or invalid"
            )
        return error_response(fault.status, fault.error_code, fault.message)

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one request that no fault intercepted."""
        kind, route, params = self.classify(request.method, request.path)
        if kind == "login" and route is not None:
            return getattr(self, "_" + route.handler)(request, **params)

        token = self.bearer_token(request)
        if not self.is_valid_session(token):
            return error_response(
                401, "INVALID_SESSION_ID", "Session expired or invalid"
            )
        with self._lock:
            if self.api_requests_used >= self.api_request_limit:
                return error_response(
                    403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
                )
            # A batch's subrequests count against the limit, the batch does not.
            if kind != "composite_batch":
                self.api_requests_used += 1

        if route is None:
            allowed = [r.method for r in _ROUTES if r.pattern.match(request.path)]
            if allowed:
                return error_response(
                    405,
                    "METHOD_NOT_ALLOWED",
                    f"HTTP Method '{request.method}' not allowed. "
                    f"Allowed are {','.join(sorted(set(allowed)))}",
                )
            return not_found()
        return getattr(self, "_" + route.handler)(request, **params)

    @staticmethod
    def bearer_token(request: ApiRequest) -> str | None:
        """Return the session token from the Authorization header, if any."""
        header = request.header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        # Salesforce accepts both the OAuth 2.0 "Bearer" and legacy "OAuth" schemes.
        if scheme.lower() in ("bearer", "oauth") and token:
            return token.strip()
        return None

    @staticmethod
    def _json_body(request: ApiRequest) -> Any:
        try:
            return json.loads(request.body or b"null")
        except ValueError:
            return _JSON_PARSE_ERROR

    # -- login -----------------------------------------------------------------

    def _password_ok(self, username: str | None, password: str | None) -> bool:
        # The security token is appended to the password unless the IP is trusted.
        return username == self.username and password in (
            self.password,
            self.password + self.security_token,
        )

    def _oauth_token(self, request: ApiRequest, **_: Any) -> ApiResponse:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = request.header("Authorization") or ""
        if basic.lower().startswith("basic "):
            decoded = base64.b64decode(basic[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        grant_type = form.get("grant_type")

        if grant_type == JWT_BEARER_GRANT:
            return self._jwt_bearer(form.get("assertion", ""))
        if grant_type not in ("password", "client_credentials"):
            return json_response(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant type not supported",
                },
            )
        if client_id != self.client_id:
            return json_response(
                400,
                {
                    "error": "invalid_client_id",
                    "error_description": "client identifier invalid",
                },
            )
        if client_secret != self.client_secret:
            return json_response(
                400,
                {
                    "error": "invalid_client",
                    "error_description": "invalid client credentials",
                },
            )
        if grant_type == "password" and not self._password_ok(
            form.get("username"), form.get("password")
        ):
            return json_response(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "authentication failure",
                },
            )

        return self._token_response()

    def _jwt_bearer(self, assertion: str) -> ApiResponse:
        """Check an OAuth 2.0 JWT bearer assertion as Salesforce does (RFC 7523).

        RS256 over the connected app's certificate; iss the consumer key, sub
        the username, aud a login URL (Salesforce's own, or this server's in
        the role of a My Domain URL) and exp not yet passed.
        """

        def refused(error: str, description: str) -> ApiResponse:
            return json_response(
                400, {"error": error, "error_description": description}
            )

        if self.jwt_public_key is None:
            return refused("invalid_grant", "invalid assertion")
        try:
            claims = jwt.decode(
                assertion,
                self.jwt_public_key,
                algorithms=["RS256"],
                audience=[*JWT_AUDIENCES, self.instance_url()],
                options={"require": ["iss", "sub", "aud", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            return refused("invalid_grant", "expired authorization code")
        except jwt.InvalidAudienceError:
            return refused("invalid_grant", "audience is invalid")
        except jwt.PyJWTError:
            return refused("invalid_grant", "invalid assertion")
        if claims["iss"] != self.client_id:
            return refused("invalid_client_id", "client identifier invalid")
        if claims["sub"] != self.username:
            return refused("invalid_grant", "user hasn't approved this consumer")
        return self._token_response()

    def _token_response(self) -> ApiResponse:
        token = self.issue_session()
        issued_at = str(int(time.time() * 1000))
        signature = base64.b64encode(secrets.token_bytes(32)).decode()
        return json_response(
            200,
            {
                "access_token": token,
                "instance_url": self.instance_url(),
                "id": f"{self.instance_url()}/id/{ORG_ID}/{USER_ID}",
                "token_type": "Bearer",
                "issued_at": issued_at,
                "signature": signature,
            },
        )

    def _soap(self, request: ApiRequest, version: str, **_: Any) -> ApiResponse:
        body = request.body.decode()
        # Only the login call is supported, so two regexes are enough here.
        username = _xml_element(body, "username")
        password = _xml_element(body, "password")
        if "login" not in body or not self._password_ok(username, password):
            return ApiResponse(500, _SOAP_LOGIN_FAULT.encode(), XML_TYPE)
        token = self.issue_session()
        base = self.instance_url()
        payload = _SOAP_LOGIN_RESPONSE.format(
            metadata_url=f"{base}/services/Soap/m/{version}/{ORG_ID[:15]}",
            server_url=f"{base}/services/Soap/u/{version}/{ORG_ID[:15]}",
            session_id=_xml_escape(token),
            user_id=USER_ID,
            org_id=ORG_ID,
            username=_xml_escape(self.username),
        )
        return ApiResponse(200, payload.encode(), XML_TYPE)

    # -- query -----------------------------------------------------------------

    def _batch_size(self, request: ApiRequest) -> int:
        size = self.query_batch_size
        options = request.header("Sforce-Query-Options") or ""
        match = re.search(r"batchSize=(\d+)", options)
        if match:
            # Salesforce treats batchSize as a hint clamped to 200..2000.
            hint = min(
                max(int(match.group(1)), MIN_QUERY_BATCH_SIZE), MAX_QUERY_BATCH_SIZE
            )
            size = min(size, hint)
        return max(size, 1)

    def _query(self, request: ApiRequest, version: str, endpoint: str) -> ApiResponse:
        text = request.param("q")
        if not text:
            return error_response(400, "MALFORMED_QUERY", "No query string provided")
        try:
            parsed = soql.parse(text)
            sobject = self._canonical_sobject(parsed.sobject)
            bound = parsed.bind(lambda name: self._resolve_field(sobject, name))
        except soql.SoqlError as error:
            return error_response(400, error.error_code, error.message)

        include_deleted = endpoint == "queryAll"
        matched = bound.matching(
            self.store.all(sobject, include_deleted=include_deleted)
        )
        url_prefix = f"/services/data/v{version}/sobjects/{sobject}/"
        records = []
        for row in matched:
            record: dict[str, Any] = {
                "attributes": {"type": sobject, "url": url_prefix + row["Id"]}
            }
            for name in bound.fields:
                record[name] = _render(row[name])
            records.append(record)

        locator = make_salesforce_id("01g", next(self._serial) + 1_000_000)
        with self._lock:
            self._cursors[locator] = records
        return self._query_page(request, version, endpoint, locator, 0)

    def _query_more(
        self, request: ApiRequest, version: str, endpoint: str, locator: str
    ) -> ApiResponse:
        cursor, _, offset = locator.rpartition("-")
        return self._query_page(request, version, endpoint, cursor, int(offset))

    def _query_page(
        self, request: ApiRequest, version: str, endpoint: str, cursor: str, offset: int
    ) -> ApiResponse:
        with self._lock:
            records = self._cursors.get(cursor)
        if records is None or offset > len(records):
            return error_response(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        end = offset + self._batch_size(request)
        page: dict[str, Any] = {
            "totalSize": len(records),
            "done": end >= len(records),
            "records": records[offset:end],
        }
        if not page["done"]:
            page["nextRecordsUrl"] = (
                f"/services/data/v{version}/{endpoint}/{cursor}-{end}"
            )
        return json_response(200, page)

    def _canonical_sobject(self, name: str) -> str:
        for sobject in self.store.sobjects:
            if sobject.lower() == name.lower():
                return sobject
        raise soql.SoqlError(
            "INVALID_TYPE",
            f"sObject type '{name}' is not supported. If you are attempting to use a "
            "custom object, be sure to append the '__c' after the entity name.",
        )

    def _resolve_field(self, sobject: str, name: str) -> tuple[str, str]:
        try:
            spec = self.store.field(sobject, name)
        except UnknownFieldError as error:
            raise soql.SoqlError(
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{sobject}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after "
                "the custom field name.",
            ) from error
        return spec.name, spec.type

    # -- sObject Collections and single records --------------------------------

    def _collections(self, request: ApiRequest, version: str) -> ApiResponse:
        body = self._json_body(request)
        if body is _JSON_PARSE_ERROR or not isinstance(body, dict):
            return error_response(400, "JSON_PARSER_ERROR", "Malformed JSON request")
        records = body.get("records")
        if not isinstance(records, list):
            return error_response(
                400, "INVALID_FIELD", "Required field is missing: records"
            )
        if len(records) > MAX_COLLECTION_RECORDS:
            return error_response(
                400,
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than "
                f"{MAX_COLLECTION_RECORDS} records into this call",
            )
        all_or_none = bool(body.get("allOrNone", False))

        checked: list[tuple[str, dict[str, Any]] | RecordError] = []
        for record in records:
            try:
                checked.append(self._check_collection_record(record))
            except RecordError as error:
                checked.append(error)
            except UnknownFieldError as error:
                return error_response(400, "INVALID_FIELD", str(error))

        failed = any(isinstance(item, RecordError) for item in checked)
        if all_or_none and failed:
            return json_response(200, [_rolled_back(item) for item in checked])

        results = []
        for item in checked:
            if isinstance(item, RecordError):
                results.append({"success": False, "errors": [item.as_dict()]})
                continue
            record_id, changes = item
            self.store.apply_update(record_id, changes)
            results.append({"id": record_id, "success": True, "errors": []})
        return json_response(200, results)

    def _check_collection_record(self, record: Any) -> tuple[str, dict[str, Any]]:
        if not isinstance(record, dict):
            raise RecordError("JSON_PARSER_ERROR", "each record must be a JSON object")
        attributes = record.get("attributes")
        sobject = attributes.get("type") if isinstance(attributes, dict) else None
        if sobject not in KEY_PREFIXES:
            raise RecordError(
                "INVALID_TYPE", f"sObject type '{sobject}' is not supported."
            )
        record_id = record.get("id") or record.get("Id")
        changes = {
            k: v for k, v in record.items() if k not in ("attributes", "id", "Id")
        }
        return self._check_update(sobject, record_id, changes)

    def _check_update(
        self, sobject: str, record_id: Any, changes: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        normalized, canonical = self.store.check_update(sobject, record_id, changes)
        injected = self.faults.take_record_error(normalized)
        if injected is not None:
            raise injected
        return normalized, canonical

    def _collections_get(
        self, request: ApiRequest, version: str, sobject: str
    ) -> ApiResponse:
        if sobject not in KEY_PREFIXES:
            return not_found()
        ids = [i for i in (request.param("ids") or "").split(",") if i]
        names = [n for n in (request.param("fields") or "").split(",") if n]
        if not ids or not names:
            return error_response(
                400, "MALFORMED_QUERY", "ids and fields are required parameters"
            )
        if len(ids) > 2000:
            return error_response(
                400, "EXCEEDED_ID_LIMIT", "cannot retrieve more than 2000 records"
            )
        try:
            canonical = [self.store.field(sobject, name).name for name in names]
        except UnknownFieldError as error:
            return error_response(400, "INVALID_FIELD", str(error))
        results = []
        for record_id in ids:
            record = self.store.get(record_id)
            if (
                record is None
                or record["IsDeleted"]
                or (record["attributes"]["type"] != sobject)
            ):
                results.append(None)
                continue
            results.append(self._render_record(record, canonical, version))
        return json_response(200, results)

    def _render_record(
        self, record: dict[str, Any], names: list[str], version: str
    ) -> dict[str, Any]:
        sobject = record["attributes"]["type"]
        rendered: dict[str, Any] = {
            "attributes": {
                "type": sobject,
                "url": f"/services/data/v{version}/sobjects/{sobject}/{record['Id']}",
            }
        }
        for name in names:
            rendered[name] = _render(record[name])
        return rendered

    def _record_get(
        self, request: ApiRequest, version: str, sobject: str, record_id: str
    ) -> ApiResponse:
        record = self.store.get(record_id)
        if record is None or record["attributes"]["type"] != sobject:
            return not_found()
        if record["IsDeleted"]:
            return error_response(404, "ENTITY_IS_DELETED", "entity is deleted", [])
        names = [n for n in (request.param("fields") or "").split(",") if n]
        try:
            canonical = [self.store.field(sobject, name).name for name in names]
        except UnknownFieldError as error:
            return error_response(400, "INVALID_FIELD", str(error))
        canonical = canonical or [spec.name for spec in self.store.fields(sobject)]
        return json_response(200, self._render_record(record, canonical, version))

    def _record_patch(
        self, request: ApiRequest, version: str, sobject: str, record_id: str
    ) -> ApiResponse:
        if sobject not in KEY_PREFIXES:
            return not_found()
        record = self.store.get(record_id)
        if record is None or record["attributes"]["type"] != sobject:
            return not_found()
        body = self._json_body(request)
        if body is _JSON_PARSE_ERROR or not isinstance(body, dict):
            return error_response(400, "JSON_PARSER_ERROR", "Malformed JSON request")
        try:
            normalized, changes = self._check_update(sobject, record_id, body)
        except UnknownFieldError as error:
            return error_response(400, "INVALID_FIELD", str(error))
        except RecordError as error:
            status = 404 if error.status_code == "ENTITY_IS_DELETED" else 400
            return error_response(
                status, error.status_code, error.message, error.fields
            )
        self.store.apply_update(normalized, changes)
        return ApiResponse(204)

    # -- Bulk API 2.0 ingest ---------------------------------------------------

    def _bulk_create(self, request: ApiRequest, version: str) -> ApiResponse:
        body = self._json_body(request)
        if body is _JSON_PARSE_ERROR or not isinstance(body, dict):
            return error_response(400, "JSON_PARSER_ERROR", "Malformed JSON request")
        operation = body.get("operation")
        sobject = body.get("object")
        if operation != "update":
            return error_response(
                400,
                "INVALIDJOB",
                f"The stand-in supports only the update operation, not {operation!r}",
            )
        if sobject not in KEY_PREFIXES:
            return error_response(
                400,
                "INVALIDJOB",
                f"Entity '{sobject}' is not supported by the Bulk API",
            )
        if body.get("contentType", "CSV") != "CSV":
            return error_response(400, "INVALIDJOB", "contentType must be CSV")
        line_ending = body.get("lineEnding", "LF")
        delimiter = body.get("columnDelimiter", "COMMA")
        if line_ending not in ("LF", "CRLF") or delimiter not in _DELIMITERS:
            return error_response(
                400, "INVALIDJOB", "Invalid lineEnding or columnDelimiter"
            )
        job = _BulkJob(
            id=make_salesforce_id("750", next(self._serial) + 2_000_000),
            operation=operation,
            sobject=sobject,
            api_version=version,
            line_ending=line_ending,
            column_delimiter=delimiter,
            created=_now_iso(),
        )
        with self._lock:
            self._jobs[job.id] = job
        return json_response(200, job.info())

    def _job(self, job_id: str) -> _BulkJob | None:
        with self._lock:
            return self._jobs.get(normalize_id(job_id) or job_id)

    def _bulk_upload(
        self, request: ApiRequest, version: str, job_id: str
    ) -> ApiResponse:
        job = self._job(job_id)
        if job is None:
            return not_found()
        if job.state != "Open":
            return error_response(
                409, "INVALIDJOBSTATE", f"Job {job.id} is not in the Open state"
            )
        if not request.body:
            return error_response(400, "INVALIDBATCH", "Empty CSV upload")
        with self._lock:
            job.uploads.append(request.body.decode("utf-8"))
        return ApiResponse(201)

    def _bulk_state(
        self, request: ApiRequest, version: str, job_id: str
    ) -> ApiResponse:
        job = self._job(job_id)
        if job is None:
            return not_found()
        body = self._json_body(request)
        state = body.get("state") if isinstance(body, dict) else None
        with self._lock:
            if state == "UploadComplete" and job.state == "Open":
                job.state = "UploadComplete"
            elif state == "Aborted" and job.state in (
                "Open",
                "UploadComplete",
                "InProgress",
            ):
                job.state = "Aborted"
            else:
                return error_response(
                    400,
                    "INVALIDJOBSTATE",
                    f"Cannot move job {job.id} from {job.state} to {state}",
                )
        return json_response(200, job.info())

    def _bulk_poll(self, request: ApiRequest, version: str, job_id: str) -> ApiResponse:
        job = self._job(job_id)
        if job is None:
            return not_found()
        with self._lock:
            if job.state in ("UploadComplete", "InProgress"):
                if job.polls < self.bulk_polls_until_complete:
                    job.state = "InProgress"
                    job.polls += 1
                else:
                    self._run_job(job)
            return json_response(200, job.info())

    def _bulk_delete(
        self, request: ApiRequest, version: str, job_id: str
    ) -> ApiResponse:
        job = self._job(job_id)
        if job is None:
            return not_found()
        with self._lock:
            del self._jobs[job.id]
        return ApiResponse(204)

    def _run_job(self, job: _BulkJob) -> None:
        delimiter = _DELIMITERS[job.column_delimiter]
        rows: list[list[str]] = []
        for upload in job.uploads:
            reader = csv.reader(io.StringIO(upload, newline=""), delimiter=delimiter)
            header = next(reader, [])
            if job.header and header != job.header:
                job.state, job.error_message = (
                    "Failed",
                    "InvalidBatch : header mismatch",
                )
                return
            job.header = header
            rows.extend(row for row in reader if row)
        try:
            names = [self.store.field(job.sobject, name).name for name in job.header]
        except UnknownFieldError as error:
            job.state = "Failed"
            job.error_message = (
                f"InvalidBatch : Field name not found : {error.field_name}"
            )
            return

        for row in rows:
            values = dict(zip(names, row, strict=False))
            record_id = values.pop("Id", "")
            try:
                changes = self._csv_changes(job.sobject, values)
                normalized, canonical = self._check_update(
                    job.sobject, record_id, changes
                )
            except RecordError as error:
                fields = ";".join(error.fields) or "--"
                message = f"{error.status_code}:{error.message}:{fields}"
                job.failures.append((record_id, message, row))
                continue
            self.store.apply_update(normalized, canonical)
            job.successes.append((normalized, row))
        job.state = "JobComplete"

    def _csv_changes(self, sobject: str, values: Mapping[str, str]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for name, raw in values.items():
            # An empty cell leaves the field alone; #N/A clears it.
            if raw == "":
                continue
            if raw == "#N/A":
                changes[name] = None
                continue
            if self.store.field(sobject, name).type == "boolean":
                lowered = raw.strip().lower()
                if lowered not in ("true", "false", "1", "0"):
                    raise RecordError(
                        "INVALID_FIELD_VALUE",
                        f"{name}: value not of required type: {raw}",
                        [name],
                    )
                changes[name] = lowered in ("true", "1")
            else:
                changes[name] = raw
        return changes

    def _bulk_results(
        self, request: ApiRequest, version: str, job_id: str, result: str
    ) -> ApiResponse:
        job = self._job(job_id)
        if job is None:
            return not_found()
        with self._lock:
            if job.state != "JobComplete" and result != "unprocessedrecords":
                return error_response(
                    400, "INVALIDJOBSTATE", f"Job {job.id} is not complete"
                )
            buffer = io.StringIO()
            writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
            if result == "successfulResults":
                writer.writerow(["sf__Id", "sf__Created", *job.header])
                for record_id, row in job.successes:
                    writer.writerow([record_id, "false", *row])
            elif result == "failedResults":
                writer.writerow(["sf__Id", "sf__Error", *job.header])
                for record_id, message, row in job.failures:
                    writer.writerow([record_id, message, *row])
            else:
                # A completed job processed every row; before that, none was.
                writer.writerow(job.header)
                if job.state != "JobComplete":
                    for upload in job.uploads:
                        reader = csv.reader(io.StringIO(upload, newline=""))
                        next(reader, None)
                        writer.writerows(row for row in reader if row)
        return ApiResponse(200, buffer.getvalue().encode(), CSV_TYPE)

    # -- Composite Batch -------------------------------------------------------

    def _composite_batch(self, request: ApiRequest, version: str) -> ApiResponse:
        body = self._json_body(request)
        if body is _JSON_PARSE_ERROR or not isinstance(body, dict):
            return error_response(400, "JSON_PARSER_ERROR", "Malformed JSON request")
        # Salesforce checks every subrequest before it runs any of them.
        try:
            subrequests = self._subrequests(request, version, body.get("batchRequests"))
        except _InvalidBatch as error:
            return error_response(400, "INVALID_BATCH_REQUEST", str(error))
        halt_on_error = body.get("haltOnError") is True

        results: list[dict[str, Any]] = []
        log: list[SubrequestRecord] = []
        halted = False
        for kind, sub in subrequests:
            fault = None
            if halted:
                response = error_response(
                    412,
                    "BATCH_PROCESSING_HALTED",
                    "Batch processing halted because a previous subrequest failed",
                )
            else:
                fault = self.faults.take_request_fault(kind, sub.path, subrequest=True)
                response = self.answer(sub, fault)
                halted = halt_on_error and response.status >= 400
            results.append(
                {
                    "statusCode": response.status,
                    "result": json.loads(response.body) if response.body else None,
                }
            )
            log.append(
                SubrequestRecord(
                    kind,
                    sub.method,
                    sub.path,
                    response.status,
                    fault.action.value if fault else None,
                )
            )

        has_errors = any(result["statusCode"] >= 400 for result in results)
        answer = json_response(200, {"hasErrors": has_errors, "results": results})
        answer.subrequests = log
        return answer

    def _subrequests(
        self, batch: ApiRequest, version: str, entries: Any
    ) -> list[tuple[str, ApiRequest]]:
        if not isinstance(entries, list) or not entries:
            raise _InvalidBatch("batchRequests must hold at least one subrequest")
        if len(entries) > MAX_BATCH_SUBREQUESTS:
            raise _InvalidBatch(
                f"A batch holds at most {MAX_BATCH_SUBREQUESTS} subrequests"
            )
        subrequests = []
        for entry in entries:
            method = entry.get("method") if isinstance(entry, dict) else None
            url = entry.get("url") if isinstance(entry, dict) else None
            if not isinstance(method, str) or not isinstance(url, str):
                raise _InvalidBatch("Each subrequest needs a method and a url")
            split = urlsplit(url)
            path = split.path
            # Salesforce also takes URLs relative to /services/data/.
            if re.match(r"v\d+\.\d+/", path):
                path = "/services/data/" + path
            kind, route, params = self.classify(method.upper(), path)
            if route is None or kind not in BATCHABLE_KINDS:
                raise _InvalidBatch(f"{method} {split.path} cannot run in a batch")
            if not MIN_BATCH_VERSION <= float(params["version"]) <= float(version):
                raise _InvalidBatch(
                    f"Subrequest versions must be from {MIN_BATCH_VERSION} to {version}"
                )
            rich_input = entry.get("richInput")
            sub = ApiRequest(
                method=method.upper(),
                path=path,
                query=parse_qs(split.query, keep_blank_values=True),
                headers=batch.headers,
                body=b"" if rich_input is None else json.dumps(rich_input).encode(),
            )
            subrequests.append((kind, sub))
        return subrequests

    # -- limits ----------------------------------------------------------------

    def _limits(self, request: ApiRequest, version: str) -> ApiResponse:
        with self._lock:
            remaining = max(self.api_request_limit - self.api_requests_used, 0)
        return json_response(
            200,
            {
                "DailyApiRequests": {
                    "Max": self.api_request_limit,
                    "Remaining": remaining,
                },
                "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
                "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            },
        )


_JSON_PARSE_ERROR = object()


class _InvalidBatch(Exception):
    """A Composite Batch request Salesforce would refuse before running any of it.

    Salesforce documents the 400 status for these; INVALID_BATCH_REQUEST as
    the error code is the stand-in's own choice.
    """


def _rolled_back(item: tuple[str, dict[str, Any]] | RecordError) -> dict[str, Any]:
    if isinstance(item, RecordError):
        return {"success": False, "errors": [item.as_dict()]}
    return {
        "id": item[0],
        "success": False,
        "errors": [
            {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because not all records were valid "
                "and the request was using AllOrNone header",
                "fields": [],
            }
        ],
    }


def _xml_element(body: str, local_name: str) -> str | None:
    match = re.search(
        rf"<(?:\w+:)?{local_name}>(.*?)</(?:\w+:)?{local_name}>", body, re.S
    )
    return _xml_unescape(match.group(1)) if match else None


def _xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def _xml_unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&#x27;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


_SOAP_LOGIN_RESPONSE = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns="urn:partner.soap.sforce.com" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><loginResponse><result>\
<metadataServerUrl>{metadata_url}</metadataServerUrl>\
<passwordExpired>false</passwordExpired>\
<sandbox>true</sandbox>\
<serverUrl>{server_url}</serverUrl>\
<sessionId>{session_id}</sessionId>\
<userId>{user_id}</userId>\
<userInfo><organizationId>{org_id}</organizationId>\
<userName>{username}</userName></userInfo>\
</result></loginResponse></soapenv:Body></soapenv:Envelope>"""

_SOAP_LOGIN_FAULT = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns:sf="urn:fault.partner.soap.sforce.com" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode>\
<faultstring>INVALID_LOGIN: Invalid username, password, security token; \
or user locked out.</faultstring>\
<detail><sf:LoginFault xsi:type="sf:LoginFault">\
<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>\
<sf:exceptionMessage>Invalid username, password, security token; \
or user locked out.</sf:exceptionMessage>\
</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"""
