"""Keep unsubscribe tokens out of the logs.

A token in a path unsubscribes someone, so it must never be written down.
Django's request and server loggers name the path of every failed request;
this filter, attached to them in settings.LOGGING, blanks the token first.
"""

import logging
import re

_TOKEN_PATH = re.compile(r"/u/[^/\s\"']+")
_REDACTED = "/u/[token]"


def _redact(value: object) -> object:
    if isinstance(value, str):
        return _TOKEN_PATH.sub(_REDACTED, value)
    return value


class RedactUnsubscribeTokens(logging.Filter):
    """Replace the token of every /u/<token>/ path in a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact(arg) for key, arg in record.args.items()}
        # Handlers that format the request (the admin mail handler) read it
        # from here; a record about an unsubscribe page keeps no request.
        request = getattr(record, "request", None)
        if request is not None and _TOKEN_PATH.search(getattr(request, "path", "")):
            record.request = None
        return True
