"""Settings for the server the benchmarks load: the app plus a no-op view."""

import warnings

from salesinsight.test_settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# One client hammers the endpoint on purpose; the limit is measured elsewhere.
UNSUBSCRIBE_RATE_LIMIT = "10000000/s"
DEBUG = False
DATABASES["default"]["CONN_MAX_AGE"] = 600  # noqa: F405
# The benchmarks request no static file, so none are collected; WhiteNoise
# would otherwise warn about the missing directory in every server process.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
