"""Fault injection: make the next requests, or chosen records, fail like Salesforce.

Two kinds of fault exist:

* request faults answer the next N matching requests with an error, a delay or
  a reset connection instead of (or, for ``slow``, before) the normal answer;
* record faults make updates of chosen record ids fail inside an otherwise
  successful sObject Collections, single-record or Bulk API 2.0 call.

A request fault with no ``kind`` matches every API request but never a login,
so that a fault meant for the data API does not swallow the re-login that
recovers from it; pass ``kind="login"`` to break logins on purpose.

Inside a Composite Batch request (kind ``composite_batch``) each subrequest is
matched by its own kind ("query", "query_more", "limits", ...), so a fault with
that kind answers the subrequest, not the batch; a fault with no ``kind`` only
ever catches whole HTTP requests. A ``connection_reset`` that catches a
subrequest drops the batch's connection, as a reset would.
"""

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from .store import RecordError, normalize_id


class ConnectionResetRequested(Exception):
    """Raised while answering a request to drop its connection without an answer."""


class FaultAction(StrEnum):
    """What a request fault does to the request it catches."""

    INVALID_SESSION = "invalid_session"
    ERROR = "error"
    SLOW = "slow"
    CONNECTION_RESET = "connection_reset"


@dataclass
class RequestFault:
    """One scheduled request fault; ``remaining`` counts down as it fires."""

    action: FaultAction
    remaining: int
    kind: str | None = None
    path_contains: str | None = None
    status: int = 0
    error_code: str = ""
    message: str = ""
    delay: float = 0.0
    fired: int = 0

    def matches(self, kind: str, path: str, *, subrequest: bool = False) -> bool:
        """Tell whether this fault applies to a request of this kind and path."""
        if self.kind is None and (kind == "login" or subrequest):
            return False
        if self.kind is not None and self.kind != kind:
            return False
        return self.path_contains is None or self.path_contains in path


@dataclass
class RecordFault:
    """A per-record error for one record id; ``remaining`` None means forever."""

    error: RecordError
    remaining: int | None = None
    fired: int = field(default=0)


_DEFAULT_RECORD_MESSAGES = {
    "ENTITY_IS_DELETED": "entity is deleted",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "Update rejected by a validation rule",
    "UNABLE_TO_LOCK_ROW": "unable to obtain exclusive access to this record",
    "INVALID_EMAIL_ADDRESS": "Email: invalid email address",
}


class FaultPlan:
    """Hold the faults scheduled for a stand-in; every method is thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._request_faults: list[RequestFault] = []
        self._record_faults: dict[str, RecordFault] = {}

    def add(
        self,
        action: FaultAction | str,
        *,
        times: int = 1,
        kind: str | None = None,
        path_contains: str | None = None,
        status: int = 0,
        error_code: str = "",
        message: str = "",
        delay: float = 0.0,
    ) -> RequestFault:
        """Schedule a request fault for the next ``times`` matching requests."""
        fault = RequestFault(
            action=FaultAction(action),
            remaining=times,
            kind=kind,
            path_contains=path_contains,
            status=status,
            error_code=error_code,
            message=message,
            delay=delay,
        )
        with self._lock:
            self._request_faults.append(fault)
        return fault

    def invalid_session(
        self,
        *,
        times: int = 1,
        kind: str | None = None,
        path_contains: str | None = None,
    ) -> RequestFault:
        """Answer 401 INVALID_SESSION_ID and revoke the caller's session token."""
        return self.add(
            FaultAction.INVALID_SESSION,
            times=times,
            kind=kind,
            path_contains=path_contains,
        )

    def request_limit_exceeded(
        self,
        *,
        times: int = 1,
        kind: str | None = None,
        path_contains: str | None = None,
    ) -> RequestFault:
        """Answer 403 REQUEST_LIMIT_EXCEEDED, as when the daily API quota is spent."""
        return self.error(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
            times=times,
            kind=kind,
            path_contains=path_contains,
        )

    def forbidden(
        self,
        error_code: str = "INSUFFICIENT_ACCESS",
        message: str = "insufficient access rights on object id",
        *,
        times: int = 1,
        kind: str | None = None,
        path_contains: str | None = None,
    ) -> RequestFault:
        """Answer 403 with an error other than the request limit."""
        return self.error(
            403,
            error_code,
            message,
            times=times,
            kind=kind,
            path_contains=path_contains,
        )

    def server_error(
        self,
        status: int = 500,
        *,
        times: int = 1,
        kind: str | None = None,
        path_contains: str | None = None,
    ) -> RequestFault:
        """Answer 500 UNKNOWN_EXCEPTION or 503 SERVER_UNAVAILABLE."""
        if status == 503:
            error_code, message = "SERVER_UNAVAILABLE", "Server temporarily unavailable"
        else:
            error_code = "UNKNOWN_EXCEPTION"
            message = (
                "An unexpected error occurred. Please include this ErrorId if you "
                "contact support: 1462728913-12345 (-1234567890)"
            )
        return self.error(
            status,
            error_code,
            message,
            times=times,
            kind=kind,
            path_contains=path_contains,
        )

    def error(
        self,
        status: int,
        error_code: str,
        message: str,
        *,
        times: int = 1,
        kind: str | None = None,
        path_contains: str | None = None,
    ) -> RequestFault:
        """Answer with any status and a Salesforce-shaped error list."""
        return self.add(
            FaultAction.ERROR,
            times=times,
            kind=kind,
            path_contains=path_contains,
            status=status,
            error_code=error_code,
            message=message,
        )

    def slow(
        self,
        seconds: float,
        *,
        times: int = 1,
        kind: str | None = None,
        path_contains: str | None = None,
    ) -> RequestFault:
        """Wait ``seconds`` before handling the request (the work still happens)."""
        return self.add(
            FaultAction.SLOW,
            times=times,
            kind=kind,
            path_contains=path_contains,
            delay=seconds,
        )

    def connection_reset(
        self,
        *,
        times: int = 1,
        kind: str | None = None,
        path_contains: str | None = None,
    ) -> RequestFault:
        """Read the request, then reset the TCP connection without answering."""
        return self.add(
            FaultAction.CONNECTION_RESET,
            times=times,
            kind=kind,
            path_contains=path_contains,
        )

    def fail_records(
        self,
        record_ids: Iterable[str],
        status_code: str = "ENTITY_IS_DELETED",
        message: str | None = None,
        fields: Iterable[str] = (),
        *,
        times: int | None = None,
    ) -> None:
        """Make updates of these records fail with a per-record error.

        ``times`` limits how many updates of each record fail; None fails them
        until the plan is cleared.
        """
        text = message or _DEFAULT_RECORD_MESSAGES.get(status_code, status_code)
        with self._lock:
            for record_id in record_ids:
                key = normalize_id(record_id) or record_id
                self._record_faults[key] = RecordFault(
                    RecordError(status_code, text, fields), remaining=times
                )

    def take_request_fault(
        self, kind: str, path: str, *, subrequest: bool = False
    ) -> RequestFault | None:
        """Consume and return the first scheduled fault matching this request."""
        with self._lock:
            for fault in self._request_faults:
                if fault.remaining > 0 and fault.matches(
                    kind, path, subrequest=subrequest
                ):
                    fault.remaining -= 1
                    fault.fired += 1
                    return fault
        return None

    def take_record_error(self, record_id: str) -> RecordError | None:
        """Consume and return the per-record error scheduled for this id, if any."""
        key = normalize_id(record_id) or record_id
        with self._lock:
            fault = self._record_faults.get(key)
            if fault is None or fault.remaining == 0:
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
            fault.fired += 1
            return fault.error

    @property
    def pending(self) -> list[RequestFault]:
        """Return the request faults that have not fired all their times."""
        with self._lock:
            return [fault for fault in self._request_faults if fault.remaining > 0]

    def clear(self) -> None:
        """Drop every scheduled fault."""
        with self._lock:
            self._request_faults.clear()
            self._record_faults.clear()
