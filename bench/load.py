"""A small HTTP load generator, run as its own process.

    python -m bench.load HOST PORT PATHS_FILE SECONDS CONNECTIONS

POSTs `List-Unsubscribe=One-Click` to the paths in PATHS_FILE (one a line,
cycled) from CONNECTIONS threads for SECONDS, then prints one JSON line:
requests, ok, errors, seconds.
"""

import http.client
import itertools
import json
import sys
import threading
import time

BODY = b"List-Unsubscribe=One-Click"
HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def main() -> None:
    host, port, paths_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    seconds, connections = float(sys.argv[4]), int(sys.argv[5])
    with open(paths_file) as lines:
        paths = [line.strip() for line in lines if line.strip()]
    cycle = itertools.cycle(paths)
    lock = threading.Lock()
    counts = {"requests": 0, "ok": 0, "errors": 0}
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        while time.perf_counter() < deadline:
            with lock:
                path = next(cycle)
            try:
                connection = http.client.HTTPConnection(host, port, timeout=10)
                connection.request("POST", path, body=BODY, headers=HEADERS)
                status = connection.getresponse().status
                connection.close()
            except OSError:
                status = 0
            with lock:
                counts["requests"] += 1
                counts["ok" if status == 200 else "errors"] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({**counts, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
