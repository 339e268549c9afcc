"""Requests per client address in fixed windows, counted in the shared cache.

The public unsubscribe page counts every request it gets, so the count must
be cheap: on Redis it is one command (a script that counts and sets the
expiry) on a client kept for the life of the process. Other cache backends (the laptop's
local memory) go through Django's cache API.

A rate reads "<requests>/<period>", the period one of s, m, h or d, with an
optional count in front: "30/m", "1000/5m". IPv6 clients are counted by
their /64 network, which one host or user typically holds whole.
"""

import ipaddress
import re
import threading
import time

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.commands.core import Script

RATE = re.compile(r"(?P<limit>\d+)/(?P<count>\d*)(?P<unit>[smhd])")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
IPV6_PREFIX = 64

# Count and, on the first request of a window, set the count's expiry: one
# command (EVALSHA), run atomically, so that no count is ever left without
# its expiry by a client that died between two commands.
COUNT_SCRIPT = """
local count = redis.call("INCR", KEYS[1])
if count == 1 then
    redis.call("EXPIRE", KEYS[1], ARGV[1])
end
return count
"""

_clients: dict[str, redis.Redis] = {}
_scripts: dict[int, Script] = {}
_clients_lock = threading.Lock()


def parse_rate(rate: str) -> tuple[int, int]:
    """Return (requests, seconds) of a rate such as "30/m"; ValueError if malformed."""
    match = RATE.fullmatch(rate.strip())
    if match is None:
        raise ValueError(f"{rate!r} is not a rate such as 30/m or 1000/5m")
    seconds = int(match["count"] or 1) * UNIT_SECONDS[match["unit"]]
    return int(match["limit"]), seconds


def client_network(address: str) -> str:
    """Return the address counted for a client: itself, or its IPv6 /64."""
    ip = ipaddress.ip_address(address)
    if ip.version == 4:
        return str(ip)
    return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))


def over_limit(
    scope: str, address: str, rate: str, *, cache_alias: str = "default"
) -> bool:
    """Count one request from `address` in `scope`; return whether it is over `rate`.

    Raises what the cache raises when it is unreachable: the caller decides
    whether a request goes through uncounted.
    """
    limit, seconds = parse_rate(rate)
    window = int(time.time() // seconds)
    key = f"ratelimit:{scope}:{client_network(address)}:{window}"

    # A second longer than the window, so that a count never expires while
    # its window is still open.
    ttl = seconds + 1
    cache = caches[cache_alias]
    if isinstance(cache, RedisCache):
        count = _count_script(cache_alias)(keys=[key], args=[ttl])
    else:
        cache.add(key, 0, timeout=ttl)
        count = cache.incr(key)
    return count > limit


def _count_script(cache_alias: str) -> Script:
    """Return COUNT_SCRIPT bound to this process's client of the cache's server."""
    client = _redis_client(cache_alias)
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts.setdefault(id(client), client.register_script(COUNT_SCRIPT))
    return script


def _redis_client(cache_alias: str) -> redis.Redis:
    """Return this process's client for the cache's primary (first) server."""
    location = settings.CACHES[cache_alias]["LOCATION"]
    if isinstance(location, str):
        location = location.split(",")
    location = location[0]
    client = _clients.get(location)
    if client is None:
        with _clients_lock:
            client = _clients.setdefault(
                location,
                redis.Redis.from_url(
                    location, socket_connect_timeout=2, socket_timeout=2
                ),
            )
    return client
