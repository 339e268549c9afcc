"""Settings for the server the benchmarks load: the app plus a no-op view."""

from salesinsight.test_settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# One client hammers the endpoint on purpose; the limit is measured elsewhere.
UNSUBSCRIBE_RATE_LIMIT = "10000000/s"
DEBUG = False
DATABASES["default"]["CONN_MAX_AGE"] = 600  # noqa: F405
