"""The connection to Salesforce: login, timeouts, retries and error classes.

simple-salesforce sends the requests, but it sets no timeout, never retries and
only refreshes a session it logged in itself. This module wraps it so that
every request has a timeout, an expired session is renewed once, transient
failures are retried with backoff and jitter, and every other failure comes
out as one of three exceptions the sync knows how to record.

Logins go to SALESFORCE_LOGIN_URL (simple-salesforce's own logins always go to
https://<domain>.salesforce.com, which a custom login host or a test stand-in
cannot be); the session it yields is handed to simple-salesforce.
"""

import csv
import io
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import requests
from django.conf import settings
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceOperationError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.util import getUniqueElementValueFromXmlString

logger = logging.getLogger(__name__)

T = TypeVar("T")

_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_COLLECTION_SIZE = 200
_BATCH_SIZE = 25
# The exception simple-salesforce raises for each status of a direct call.
_ERRORS_BY_STATUS: dict[int, type[SalesforceError]] = {
    300: SalesforceMoreThanOneRecord,
    400: SalesforceMalformedRequest,
    401: SalesforceExpiredSession,
    403: SalesforceRefusedRequest,
    404: SalesforceResourceNotFound,
}


class SyncError(Exception):
    """A failure the sync records; `code` is Salesforce's errorCode or ours."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class NotConfigured(SyncError):
    """No credentials are set: the sync is off."""


class TransientError(SyncError):
    """Salesforce kept failing (5xx, timeout, reset): try the run again later."""


class RequestLimitExceeded(SyncError):
    """The org's daily API limit is spent: wait long before trying again."""


class PermanentError(SyncError):
    """Salesforce refused in a way retrying cannot fix: stop and show it."""


@dataclass(frozen=True)
class Credentials:
    """The login settings, and which of Salesforce's login flows they select."""

    login_url: str
    api_version: str
    username: str = ""
    password: str = ""
    security_token: str = ""
    client_id: str = ""
    client_secret: str = ""
    private_key_file: str = ""

    @property
    def flow(self) -> str | None:
        """Return "jwt", "oauth_password", "client_credentials", "soap" or None."""
        if self.client_id and self.username and self.private_key_file:
            return "jwt"
        if self.client_id and self.client_secret and self.username and self.password:
            return "oauth_password"
        if self.client_id and self.client_secret and not self.username:
            return "client_credentials"
        if self.username and self.password and not self.client_id:
            return "soap"
        return None

    @property
    def is_configured(self) -> bool:
        return self.flow is not None

    @property
    def is_partial(self) -> bool:
        """Tell whether some credentials are set but no login flow is complete."""
        given = (
            self.username,
            self.password,
            self.security_token,
            self.client_id,
            self.client_secret,
            self.private_key_file,
        )
        return any(given) and not self.is_configured


def credentials_from_settings() -> Credentials:
    """Read the credentials from Django's settings."""
    return Credentials(
        login_url=settings.SALESFORCE_LOGIN_URL.rstrip("/"),
        api_version=settings.SALESFORCE_API_VERSION,
        username=settings.SALESFORCE_USERNAME,
        password=settings.SALESFORCE_PASSWORD,
        security_token=settings.SALESFORCE_SECURITY_TOKEN,
        client_id=settings.SALESFORCE_CLIENT_ID,
        client_secret=settings.SALESFORCE_CLIENT_SECRET,
        private_key_file=settings.SALESFORCE_PRIVATE_KEY_FILE,
    )


def is_configured() -> bool:
    """Tell whether credentials for a complete login flow are set."""
    return credentials_from_settings().is_configured


class _Session(requests.Session):
    """A session that puts a timeout and the CA bundle on every request."""

    def __init__(self, timeout: float, ca_bundle: str) -> None:
        super().__init__()
        self.timeout = (min(timeout, 10.0), timeout)
        self.ca_bundle = ca_bundle

    def request(  # type: ignore[override]  # every argument after url by name
        self, method: str, url: str | bytes, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        if self.ca_bundle:
            # Passed per request, because requests lets REQUESTS_CA_BUNDLE from
            # the environment override a bundle set on the session.
            kwargs["verify"] = self.ca_bundle
        return super().request(method, url, **kwargs)


@dataclass
class RecordResult:
    """The outcome of updating one record; error fields empty on success."""

    record_id: str
    success: bool
    error_code: str = ""
    error_message: str = ""


class SalesforceClient:
    """Talk to one Salesforce org with timeouts, one re-login and retries."""

    def __init__(self, credentials: Credentials | None = None) -> None:
        self.credentials = credentials or credentials_from_settings()
        if not self.credentials.is_configured:
            raise NotConfigured("NOT_CONFIGURED", "No Salesforce credentials are set.")
        self.session = _Session(
            settings.SALESFORCE_TIMEOUT_SECONDS, settings.SALESFORCE_CA_BUNDLE
        )
        self.session.hooks["response"].append(self._observe)
        self.max_attempts = max(settings.SALESFORCE_RETRY_ATTEMPTS, 1)
        self.backoff_seconds = settings.SALESFORCE_RETRY_BASE_SECONDS
        self.requests_made = 0
        self.api_usage: int | None = None
        self.api_limit: int | None = None
        self._sf: Salesforce | None = None

    # -- bookkeeping -----------------------------------------------------------

    def _observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.requests_made += 1
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.api_usage, self.api_limit = int(match[1]), int(match[2])

    # -- login -----------------------------------------------------------------

    def _salesforce(self) -> Salesforce:
        if self._sf is None:
            instance_url, session_id = self._login()
            self._sf = Salesforce(
                instance_url=instance_url,
                session_id=session_id,
                session=self.session,
                version=self.credentials.api_version,
            )
        return self._sf

    def _login(self) -> tuple[str, str]:
        flow = self.credentials.flow
        if flow == "soap":
            return self._soap_login()
        return self._oauth_login(flow)

    def _oauth_login(self, flow: str | None) -> tuple[str, str]:
        c = self.credentials
        if flow == "jwt":
            form = {
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": self._jwt_assertion(),
            }
        elif flow == "oauth_password":
            form = {
                "grant_type": "password",
                "client_id": c.client_id,
                "client_secret": c.client_secret,
                "username": c.username,
                "password": c.password + c.security_token,
            }
        else:
            form = {
                "grant_type": "client_credentials",
                "client_id": c.client_id,
                "client_secret": c.client_secret,
            }
        response = self.session.post(c.login_url + "/services/oauth2/token", data=form)
        if response.status_code >= 500:
            raise _HttpServerError(response.status_code)
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code != 200 or "access_token" not in payload:
            raise PermanentError(
                "LOGIN_FAILED", str(payload.get("error") or response.status_code)
            )
        return payload["instance_url"], payload["access_token"]

    def _jwt_assertion(self) -> str:
        import jwt

        c = self.credentials
        claims = {
            "iss": c.client_id,
            "sub": c.username,
            "aud": c.login_url,
            "exp": int(time.time()) + 180,
        }
        key = Path(c.private_key_file).read_text()
        return jwt.encode(claims, key, algorithm="RS256")

    def _soap_login(self) -> tuple[str, str]:
        c = self.credentials
        envelope = (
            '<?xml version="1.0" encoding="utf-8" ?>'
            '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
            '<env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com">'
            f"<n1:username>{escape(c.username)}</n1:username>"
            f"<n1:password>{escape(c.password + c.security_token)}</n1:password>"
            "</n1:login></env:Body></env:Envelope>"
        )
        response = self.session.post(
            f"{c.login_url}/services/Soap/u/{c.api_version}",
            data=envelope.encode(),
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"},
        )
        body = response.content
        if response.status_code == 200:
            session_id = getUniqueElementValueFromXmlString(body, "sessionId")
            server_url = getUniqueElementValueFromXmlString(body, "serverUrl")
            if session_id and server_url:
                split = urlsplit(server_url)
                return f"{split.scheme}://{split.netloc}", session_id
        fault = b"faultcode" in body and getUniqueElementValueFromXmlString(
            body, "sf:exceptionCode"
        )
        if response.status_code >= 500 and not fault:
            raise _HttpServerError(response.status_code)
        raise PermanentError("LOGIN_FAILED", str(fault or response.status_code))

    # -- calling with retries --------------------------------------------------

    def call(self, operation: Callable[[Salesforce], T]) -> T:
        """Run one API operation, classifying and retrying its failures."""
        attempt = 0
        relogged_in = False
        while True:
            attempt += 1
            try:
                return operation(self._salesforce())
            except SalesforceExpiredSession as error:
                if relogged_in:
                    raise PermanentError(
                        "INVALID_SESSION_ID", "session refused right after login"
                    ) from error
                logger.info("Salesforce session expired; logging in again")
                relogged_in = True
                self._sf = None
                attempt -= 1
                continue
            except SalesforceRefusedRequest as error:
                code = _error_code(error)
                if code == "REQUEST_LIMIT_EXCEEDED":
                    raise RequestLimitExceeded(code, _error_message(error)) from error
                raise PermanentError(code, _error_message(error)) from error
            except (
                SalesforceGeneralError,
                _HttpServerError,
                requests.Timeout,
                requests.ConnectionError,
            ) as error:
                status = getattr(error, "status", 0)
                if isinstance(error, SalesforceGeneralError) and status < 500:
                    raise PermanentError(
                        _error_code(error), _error_message(error)
                    ) from error
                code = f"HTTP_{status}" if status else type(error).__name__
                if attempt >= self.max_attempts:
                    raise TransientError(
                        code, f"no answer after {attempt} attempts"
                    ) from error
                delay = self.backoff_seconds * 2 ** (attempt - 1)
                # Jitter spreads retries out; it needs no cryptographic randomness.
                delay += random.uniform(0, delay)  # noqa: S311 # nosec B311
                logger.warning(
                    "Salesforce request failed (%s), attempt %s; retrying in %.1fs",
                    code,
                    attempt,
                    delay,
                )
                time.sleep(delay)
            except SalesforceError as error:
                # 400 and 404: the request itself is wrong (a missing field,
                # a bad query); repeating it cannot help.
                raise PermanentError(
                    _error_code(error), _error_message(error)
                ) from error
            except SalesforceOperationError as error:
                # A Bulk API job that failed or was aborted as a whole.
                raise PermanentError("BULK_JOB_FAILED", str(error)[:500]) from error

    # -- operations ------------------------------------------------------------

    def query_pages(self, soql: str) -> Iterator[list[dict[str, Any]]]:
        """Yield the records of a SOQL query page by page (nextRecordsUrl)."""
        page = self.call(lambda sf: sf.query(soql))
        yield page["records"]
        while not page.get("done", True):
            next_url = page["nextRecordsUrl"]
            page = self.call(_next_page(next_url))
            yield page["records"]

    def query_pages_together(
        self, soqls: list[str]
    ) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """Yield (query index, records) for up to 25 SOQL queries, page by page.

        The first pages of all the queries come in one Composite Batch request;
        later pages follow each nextRecordsUrl with a plain queryMore. The
        queries take turns, so that no query locator sits idle while another
        query pages on: Salesforce drops a locator left idle for 15 minutes.
        """
        if not 0 < len(soqls) <= _BATCH_SIZE:
            raise ValueError("a Composite Batch takes 1 to 25 subrequests")
        pages = self.call(lambda sf: _first_pages(sf, soqls))
        for index, page in enumerate(pages):
            yield index, page["records"]

        open_pages = {i: page for i, page in enumerate(pages) if not page["done"]}
        while open_pages:
            for index, page in list(open_pages.items()):
                next_url = page["nextRecordsUrl"]
                page = self.call(_next_page(next_url))
                yield index, page["records"]
                if page["done"]:
                    del open_pages[index]
                else:
                    open_pages[index] = page

    def update_collection(self, records: list[dict[str, Any]]) -> list[RecordResult]:
        """Update at most 200 records in one sObject Collections request."""
        if len(records) > _COLLECTION_SIZE:
            raise ValueError("sObject Collections take at most 200 records")
        body = {"allOrNone": False, "records": records}
        results = self.call(
            lambda sf: sf.restful("composite/sobjects", method="PATCH", json=body)
        )
        if results is None:
            raise PermanentError("NO_CONTENT", "sObject Collections gave no results")
        # A failed result carries no id: results match records by position.
        outcomes = []
        for record, result in zip(records, results, strict=True):
            error = (result.get("errors") or [{}])[0]
            outcomes.append(
                RecordResult(
                    record_id=record["id"],
                    success=bool(result.get("success")),
                    error_code=error.get("statusCode", ""),
                    error_message=error.get("message", ""),
                )
            )
        return outcomes

    def bulk_update(
        self, sobject: str, rows: list[dict[str, str]], *, poll_seconds: float = 1.0
    ) -> list[RecordResult]:
        """Update records through Bulk API 2.0 ingest jobs and read their results.

        Records a job did not process are left out of the answer. A retry after
        a transient failure starts a new job: updates set absolute values, so
        sending them twice has the effect of sending them once.
        """

        def upload(sf: Salesforce) -> list[dict[str, Any]]:
            bulk = getattr(sf.bulk2, sobject)
            return bulk.update(records=rows, wait=poll_seconds)

        outcomes = []
        for job in self.call(upload):
            job_id = job["job_id"]
            successful = self.call(_job_records(sobject, job_id, failed=False))
            for row in csv.DictReader(io.StringIO(successful)):
                outcomes.append(RecordResult(record_id=row["Id"], success=True))
            failed = self.call(_job_records(sobject, job_id, failed=True))
            for row in csv.DictReader(io.StringIO(failed)):
                # sf__Error reads "STATUS_CODE:message:fields".
                code, _, rest = row["sf__Error"].partition(":")
                outcomes.append(
                    RecordResult(
                        record_id=row["Id"],
                        success=False,
                        error_code=code,
                        error_message=rest.rsplit(":", 1)[0][:500],
                    )
                )
        return outcomes


def _next_page(url: str) -> Callable[[Salesforce], Any]:
    """Return the operation that reads the query page at `url`."""

    def operation(sf: Salesforce) -> Any:
        return sf.query_more(url, identifier_is_url=True)

    return operation


def _job_records(
    sobject: str, job_id: str, *, failed: bool
) -> Callable[[Salesforce], str]:
    """Return the operation reading a Bulk API 2.0 job's failed or good rows."""

    def operation(sf: Salesforce) -> str:
        job = getattr(sf.bulk2, sobject)
        if failed:
            return job.get_failed_records(job_id)
        return job.get_successful_records(job_id)

    return operation


def _first_pages(sf: Salesforce, soqls: list[str]) -> list[dict[str, Any]]:
    """Run SOQL queries in one Composite Batch request; return their first pages.

    A subrequest that failed inside the batch's 200 answer raises what
    simple-salesforce raises for the same answer to a direct call, so that
    `SalesforceClient.call` re-logs in, backs off or stops just the same.
    """
    base_path = urlsplit(sf.base_url).path
    subrequests = [
        {"method": "GET", "url": f"{base_path}query/?{urlencode({'q': soql})}"}
        for soql in soqls
    ]
    # The whole batch is sent again after any failure, so the subrequests after
    # a failed one would only spend API calls: Salesforce answers them 412.
    body = {"batchRequests": subrequests, "haltOnError": True}
    answer = sf.restful("composite/batch", method="POST", json=body)
    if answer is None:
        raise PermanentError("NO_CONTENT", "Composite Batch gave no results")

    pages = []
    for subrequest, result in zip(subrequests, answer["results"], strict=True):
        status = result["statusCode"]
        if status >= 300:
            error = _ERRORS_BY_STATUS.get(status, SalesforceGeneralError)
            raise error(subrequest["url"], status, "composite/batch", result["result"])
        pages.append(result["result"])
    return pages


class _HttpServerError(Exception):
    """A login answered with a 5xx status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def _error_code(error: SalesforceError) -> str:
    content = error.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode", f"HTTP_{error.status}"))
    return f"HTTP_{error.status}"


def _error_message(error: SalesforceError) -> str:
    content = error.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("message", ""))[:500]
    return ""
