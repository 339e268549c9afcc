"""HTTPS plumbing: a threading server on 127.0.0.1 that feeds SalesforceApi."""

import contextlib
import logging
import shutil
import socket
import ssl
import struct
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests
import trustme

from .endpoints import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    ApiRequest,
    ApiResponse,
    RequestRecord,
    SalesforceApi,
)
from .faults import ConnectionResetRequested, FaultPlan
from .store import RecordStore

logger = logging.getLogger(__name__)

DEFAULT_API_VERSION = "59.0"


class _ConnectionReset(Exception):
    """Raised inside a handler to drop the connection without an answer."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SalesforceStandin/1.0"
    server: "_TlsServer"

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def handle(self) -> None:
        try:
            super().handle()
        except _ConnectionReset:
            self._reset_socket()
        except (ConnectionError, ssl.SSLError, TimeoutError) as error:
            logger.debug("connection from %s ended: %s", self.client_address, error)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.client_address[0], *args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Skip trailers up to the blank line that ends the message.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        standin = self.server.standin
        api = standin.api
        split = urlsplit(self.path)
        request = ApiRequest(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=self._read_body(),
        )

        kind, _, _ = api.classify(request.method, request.path)
        fault = standin.faults.take_request_fault(kind, request.path)
        log_index = api.log_request(
            kind, request.method, request.path, fault.action.value if fault else None
        )

        try:
            response = api.answer(request, fault)
        except ConnectionResetRequested:
            api.log_status(log_index, None)
            raise _ConnectionReset from None

        api.log_status(log_index, response.status, response.subrequests)
        self._send(response, api.limit_info())

    def _send(self, response: ApiResponse, limit_info: str) -> None:
        self.send_response(response.status)
        self.send_header("Sforce-Limit-Info", limit_info)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status != 204:
            if response.content_type:
                self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.status != 204 and response.body:
            self.wfile.write(response.body)

    def _reset_socket(self) -> None:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        ssl_context: ssl.SSLContext,
        standin: "SalesforceStandin",
    ) -> None:
        self.ssl_context = ssl_context
        self.standin = standin
        self._open_sockets: set[socket.socket] = set()
        self._sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs here, in the connection's own thread, so a slow or
        # broken client never blocks the accept loop.
        try:
            request.settimeout(10)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
            tls.settimeout(None)
        except (ssl.SSLError, OSError) as error:
            logger.debug("TLS handshake with %s failed: %s", client_address, error)
            return
        with self._sockets_lock:
            self._open_sockets.add(tls)
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            with self._sockets_lock:
                self._open_sockets.discard(tls)
            tls.close()

    def close_open_connections(self) -> None:
        with self._sockets_lock:
            sockets = list(self._open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class StandinSession(requests.Session):
    """A requests session that trusts the stand-in's CA and can reroute logins.

    With ``reroute_salesforce_hosts`` every request to ``*.salesforce.com`` (the
    login URLs simple-salesforce builds from ``domain``) goes to the stand-in.
    """

    def __init__(self, instance_url: str, ca_path: str, reroute: bool = True) -> None:
        super().__init__()
        # Ignoring the environment keeps REQUESTS_CA_BUNDLE from overriding the
        # stand-in's CA (requests lets it win over Session.verify) and keeps any
        # HTTPS_PROXY away from 127.0.0.1.
        self.trust_env = False
        self.verify = ca_path
        self._target = urlsplit(instance_url)
        self._reroute = reroute

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        """Send the request, rewriting Salesforce login hosts to the stand-in."""
        split = urlsplit(request.url or "")
        host = split.hostname or ""
        if self._reroute and (
            host == "salesforce.com" or host.endswith(".salesforce.com")
        ):
            request.url = urlunsplit(
                (self._target.scheme, self._target.netloc, split.path, split.query, "")
            )
        return super().send(request, **kwargs)


class SalesforceStandin:
    """Run a Salesforce stand-in over HTTPS on 127.0.0.1 in a background thread.

    Use it as a context manager, or call start() and stop().
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        query_batch_size: int = 2000,
        bulk_polls_until_complete: int = 1,
        api_request_limit: int = 15000,
        custom_fields: Mapping[str, Iterable[str]] | None = None,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        security_token: str = DEFAULT_SECURITY_TOKEN,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.store = RecordStore(custom_fields=custom_fields)
        self.faults = FaultPlan()
        self.api = SalesforceApi(
            self.store,
            self.faults,
            lambda: self.instance_url,
            query_batch_size=query_batch_size,
            bulk_polls_until_complete=bulk_polls_until_complete,
            api_request_limit=api_request_limit,
            username=username,
            password=password,
            security_token=security_token,
            client_id=client_id,
            client_secret=client_secret,
        )
        self.stopping = threading.Event()
        # Waiting on the stop event lets the server shut down mid-delay.
        self.api.wait = self.stopping.wait
        self._server: _TlsServer | None = None
        self._thread: threading.Thread | None = None
        self._tempdir: str | None = None
        self.ca_path = ""

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> "SalesforceStandin":
        """Create the CA and certificate, bind the port and start serving."""
        ca = trustme.CA()
        server_cert = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_cert.configure_cert(context)

        self._tempdir = tempfile.mkdtemp(prefix="salesforce-standin-")
        ca_file = Path(self._tempdir) / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        self.ca_path = str(ca_file)

        self.stopping.clear()
        self._server = _TlsServer((self.host, self.requested_port), context, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="salesforce-standin",
            daemon=True,
        )
        self._thread.start()
        logger.info("Salesforce stand-in listening on %s", self.instance_url)
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and delete the CA file."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.close_open_connections()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def __enter__(self) -> "SalesforceStandin":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses and clients -------------------------------------------------

    @property
    def port(self) -> int:
        """Return the bound port."""
        if self._server is None:
            raise RuntimeError("the stand-in is not running")
        return self._server.server_address[1]

    @property
    def instance_url(self) -> str:
        """Return the base URL, e.g. https://127.0.0.1:54321 (no trailing slash)."""
        return f"https://{self.host}:{self.port}"

    @property
    def token_url(self) -> str:
        """Return the OAuth 2.0 token endpoint URL."""
        return self.instance_url + "/services/oauth2/token"

    def data_url(self, version: str = DEFAULT_API_VERSION) -> str:
        """Return the REST base URL for an API version, ending in a slash."""
        return f"{self.instance_url}/services/data/v{version}/"

    def session(self, reroute_salesforce_hosts: bool = True) -> StandinSession:
        """Return a requests session that verifies the stand-in's certificate."""
        return StandinSession(self.instance_url, self.ca_path, reroute_salesforce_hosts)

    def client(self, version: str = DEFAULT_API_VERSION, **kwargs: Any) -> Any:
        """Return a simple_salesforce.Salesforce holding a fresh session token."""
        from simple_salesforce import Salesforce

        return Salesforce(
            instance_url=self.instance_url,
            session_id=self.issue_session(),
            session=self.session(),
            version=version,
            **kwargs,
        )

    def login_client(self, version: str = DEFAULT_API_VERSION, **kwargs: Any) -> Any:
        """Return a simple_salesforce.Salesforce that logs in with username, password
        and security token (SOAP login), so it can re-login after INVALID_SESSION_ID.
        """
        from simple_salesforce import Salesforce

        return Salesforce(
            username=self.api.username,
            password=self.api.password,
            security_token=self.api.security_token,
            session=self.session(),
            version=version,
            **kwargs,
        )

    # -- sessions --------------------------------------------------------------

    def issue_session(self) -> str:
        """Create and return a valid session token (an access token)."""
        return self.api.issue_session()

    def revoke_all_sessions(self) -> None:
        """Invalidate every session token, as an admin's session reset would."""
        self.api.revoke_all_sessions()

    # -- configuration, counting and reset -------------------------------------

    @property
    def query_batch_size(self) -> int:
        """Return how many records one query page holds."""
        return self.api.query_batch_size

    @query_batch_size.setter
    def query_batch_size(self, value: int) -> None:
        self.api.query_batch_size = value

    @property
    def bulk_polls_until_complete(self) -> int:
        """Return how many job polls answer InProgress before JobComplete."""
        return self.api.bulk_polls_until_complete

    @bulk_polls_until_complete.setter
    def bulk_polls_until_complete(self, value: int) -> None:
        self.api.bulk_polls_until_complete = value

    @property
    def api_requests_used(self) -> int:
        """Return the API usage reported in Sforce-Limit-Info and limits/."""
        return self.api.api_requests_used

    @api_requests_used.setter
    def api_requests_used(self, value: int) -> None:
        self.api.api_requests_used = value

    @property
    def api_request_limit(self) -> int:
        """Return the DailyApiRequests maximum."""
        return self.api.api_request_limit

    @api_request_limit.setter
    def api_request_limit(self, value: int) -> None:
        self.api.api_request_limit = value

    @property
    def counts(self) -> Counter[str]:
        """Return a copy of the request counts by kind."""
        return self.api.counts

    @property
    def subrequest_counts(self) -> Counter[str]:
        """Return a copy of the Composite Batch subrequest counts by kind."""
        return self.api.subrequest_counts

    @property
    def requests(self) -> list[RequestRecord]:
        """Return a copy of the request log, oldest first."""
        return self.api.requests

    def reset(self) -> None:
        """Clear records, faults, counts, the log, cursors, jobs and API usage."""
        self.store.clear()
        self.faults.clear()
        self.api.reset()
