"""Gunicorn's configuration, shared by docker-compose and `make bench`.

Requests spend most of their time waiting on PostgreSQL (a row lock, a
durable commit), not on the CPU, so each process serves several at once from
threads; the process count follows the cores.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Requests are short; a stuck one is killed rather than holding a thread.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
max_requests = 5000
max_requests_jitter = 500
accesslog = None
