"""Keep personal data that travels in URLs out of third-party log lines."""

import logging
import re

# A query string up to the next space or quote: SOQL lookups put emails there.
_QUERY = re.compile(r"\?[^\s\"']*")
_REDACTED = "?[redacted]"


def _redact(value: object) -> object:
    return _QUERY.sub(_REDACTED, value) if isinstance(value, str) else value


class RedactQueryStrings(logging.Filter):
    """Blank the query string of every URL in a record.

    urllib3 logs each request's URL at DEBUG; the Salesforce sync's lookups
    carry emails in theirs (SELECT ... WHERE Email IN (...)). A deployment
    that turns LOG_LEVEL up to DEBUG must still not write those down.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact(arg) for key, arg in record.args.items()}
        return True
