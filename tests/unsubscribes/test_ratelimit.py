"""The public pages' rate limiter: its rates, its windows, its two stores."""

import uuid
from collections import Counter

import pytest
from django.core.exceptions import ImproperlyConfigured

from salesinsight import settings as project_settings
from unsubscribes import ratelimit


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        ("30/m", (30, 60)),
        ("1000/5m", (1000, 300)),
        ("2/s", (2, 1)),
        ("7/d", (7, 86400)),
    ],
)
def test_a_rate_reads_as_requests_per_seconds(rate, expected):
    assert ratelimit.parse_rate(rate) == expected


@pytest.mark.parametrize("rate", ["", "30", "30/x", "m/30", "-1/m", "30 per minute"])
def test_a_malformed_rate_is_refused(rate):
    with pytest.raises(ValueError, match="is not a rate"):
        ratelimit.parse_rate(rate)


def test_a_malformed_rate_in_the_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("UNSUBSCRIBE_RATE_LIMIT", "30 per minute")

    with pytest.raises(ImproperlyConfigured, match="UNSUBSCRIBE_RATE_LIMIT"):
        project_settings._read("UNSUBSCRIBE_RATE_LIMIT", project_settings._rate, "30/m")


def test_an_ipv6_client_is_counted_by_its_64_network():
    assert ratelimit.client_network("2001:db8:1:2:aaaa::1") == ratelimit.client_network(
        "2001:db8:1:2:bbbb::9"
    )
    assert ratelimit.client_network("2001:db8:1:3::1") != ratelimit.client_network(
        "2001:db8:1:2::1"
    )
    assert ratelimit.client_network("10.0.0.7") == "10.0.0.7"


def _count_until_refused(address: str, rate: str, attempts: int) -> list[bool]:
    scope = f"test-{uuid.uuid4()}"
    return [ratelimit.over_limit(scope, address, rate) for _ in range(attempts)]


def test_the_limit_refuses_from_the_request_after_the_last_allowed():
    # The laptop's local-memory cache.
    assert _count_until_refused("10.0.0.1", "3/h", 5) == [False] * 3 + [True] * 2


def _command_calls(client) -> Counter:
    stats = client.info("commandstats")
    return Counter({name: figures["calls"] for name, figures in stats.items()})


def test_the_limit_counts_in_redis_in_one_command(settings, redis_url):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
        }
    }
    client = ratelimit._redis_client("default")
    client.script_load(ratelimit.COUNT_SCRIPT)  # no NOSCRIPT retry counted
    before = _command_calls(client)

    scope = f"test-{uuid.uuid4()}"
    refused = [ratelimit.over_limit(scope, "10.0.0.2", "3/h") for _ in range(5)]

    calls = _command_calls(client)
    calls.subtract(before)
    # One script call a request; inside it, the expiry is set once a window.
    assert calls["cmdstat_evalsha"] == 5
    assert (calls["cmdstat_incr"], calls["cmdstat_expire"]) == (5, 1)
    assert refused == [False] * 3 + [True] * 2
    (key,) = client.keys(f"ratelimit:{scope}:*")
    assert 0 < client.ttl(key) <= 3600 + 1


def test_each_window_counts_afresh(monkeypatch):
    # The local-memory cache reads the same clock for its expiry times.
    now = [0.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    scope = f"test-{uuid.uuid4()}"

    counts = []
    for at in (1000.0, 1000.5, 1001.2, 1001.4):
        now[0] = at
        counts.append(ratelimit.over_limit(scope, "10.0.0.3", "1/s"))

    # Two requests in the second that starts at 1000, two in the next.
    assert counts == [False, True, False, True]
