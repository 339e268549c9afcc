"""Stream the output of PostgreSQL `COPY ... TO STDOUT` statements while they run.

psycopg2's `copy_expert` hands every row to a file's `write()` and returns only
when COPY ends, so each connection's COPYs run in a worker thread, writing
into a bounded queue that the reader empties. When a queue is full its thread
blocks, stops reading from the socket, and PostgreSQL waits: memory stays
flat however many rows there are. Closing the iterator early cancels every
COPY still running.

With several connections, statement k runs on connection k mod n, and the
reader hands the statements' output on in order: while it passes on one
statement's rows, the other connections compute the next statements into
their queues, up to the bound.
"""

import contextlib
import logging
import queue
import threading
from collections.abc import Generator, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import psycopg2
from psycopg2.extensions import ISOLATION_LEVEL_REPEATABLE_READ

logger = logging.getLogger(__name__)

# Bytes per chunk handed out, and chunks waiting at most per connection:
# about 1 MiB held for each.
CHUNK_BYTES = 64 * 1024
MAX_CHUNKS = 16
# How often a blocked writer looks whether the reader has gone.
POLL_SECONDS = 0.1


class CopyCancelled(Exception):
    """Raised inside a worker thread to stop COPY when nobody reads any more."""


@dataclass(frozen=True)
class _StatementEnd:
    rowcount: int


@dataclass(frozen=True)
class _WorkerEnd:
    error: BaseException | None


class _ChunkWriter:
    """The file COPY writes to: gathers rows into chunks and queues them.

    COPY TO sends one protocol message per row and psycopg2 passes each to
    `write()` as it is, ending in "\n" (TO STDOUT on any server platform).
    Rows end in CRLF like every other CSV the app writes, so that newline gets
    its carriage return here; a newline inside a quoted cell is never at the
    end of a message, so it is left alone.
    """

    def __init__(self, chunks: queue.Queue, chunk_bytes: int) -> None:
        self.chunks = chunks
        self.chunk_bytes = chunk_bytes
        # Set by the reading thread; a bool is enough under the GIL.
        self.cancelled = False
        self.buffer = bytearray()
        self.rows = 0  # in the buffer

    def write(self, row: bytes) -> None:
        if self.cancelled:
            raise CopyCancelled
        buffer = self.buffer
        buffer += row
        buffer[-1:] = b"\r\n"
        self.rows += 1
        if len(buffer) >= self.chunk_bytes:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.put((bytes(self.buffer), self.rows))
            self.buffer.clear()
            self.rows = 0

    def put(self, item: Any) -> None:
        while True:
            if self.cancelled:
                raise CopyCancelled
            try:
                self.chunks.put(item, timeout=POLL_SECONDS)
            except queue.Full:
                continue
            return


class _CopyWorker:
    """One connection running its share of the statements, in turn, in a thread.

    From start() until the thread ends the connection belongs to the thread;
    only cancel() touches it from outside, to send a cancel request, which
    libpq allows from any thread.
    """

    def __init__(
        self,
        cursor: Any,
        statements: list[str],
        errors: AbstractContextManager,
        chunk_bytes: int,
        max_chunks: int,
    ) -> None:
        self.cursor = cursor
        self.statements = statements
        self.errors = errors
        self.chunks: queue.Queue = queue.Queue(maxsize=max_chunks)
        self.writer = _ChunkWriter(self.chunks, chunk_bytes)
        self.thread = threading.Thread(target=self._run, name="copy-out", daemon=True)
        # Held while a cancel request could still reach one of these COPYs,
        # so that none reaches whatever statement runs on the connection after.
        self._copying = threading.Lock()
        self._running = False

    def start(self) -> None:
        with self._copying:
            self._running = True
        self.thread.start()

    def cancel(self) -> None:
        self.writer.cancelled = True
        with self._copying:
            if self._running:
                # Without it PostgreSQL would compute every remaining row, and
                # the next statement would wait while libpq drained them.
                self.cursor.connection.cancel()

    def _run(self) -> None:
        error: BaseException | None = None
        try:
            for sql in self.statements:
                if self.writer.cancelled:
                    raise CopyCancelled
                with self.errors:
                    self.cursor.copy_expert(sql, self.writer)
                self.writer.flush()
                self.writer.put(_StatementEnd(self.cursor.rowcount))
        except BaseException as caught:  # handed to the reading thread
            error = caught
        finally:
            with self._copying:
                self._running = False
            # A reader that has gone waits for no end marker.
            with contextlib.suppress(CopyCancelled):
                self.writer.put(_WorkerEnd(error))


class CopyOut:
    """Iterate `(chunk, rows in it)` of COPY TO STDOUT statements, in order.

    `statements` are complete SQL (COPY takes no bind parameters; mogrify
    them first). `cursors` are cursors on distinct PostgreSQL connections
    (psycopg2, or Django's wrappers of them); statement k runs on cursor
    k mod len(cursors), which belongs to a worker thread from the moment
    iteration starts until it ends. `errors`, a reusable context manager,
    wraps each COPY: Django's `wrap_database_errors` turns driver errors into
    Django's. `rowcount` is the statements' own count once all have finished.
    """

    def __init__(
        self,
        cursors: Sequence[Any],
        statements: Sequence[str],
        *,
        errors: AbstractContextManager | None = None,
        chunk_bytes: int = CHUNK_BYTES,
        max_chunks: int = MAX_CHUNKS,
    ) -> None:
        self.statement_count = len(statements)
        self.workers = [
            _CopyWorker(
                cursor,
                list(statements[index :: len(cursors)]),
                errors or contextlib.nullcontext(),
                chunk_bytes,
                max_chunks,
            )
            for index, cursor in enumerate(cursors)
        ]
        self.rowcount: int | None = None

    def __iter__(self) -> Iterator[tuple[bytes, int]]:
        for worker in self.workers:
            worker.start()
        rowcount = 0
        try:
            for index in range(self.statement_count):
                rowcount += yield from self._statement(
                    self.workers[index % len(self.workers)]
                )
        finally:
            self.close()
        self.rowcount = rowcount

    def _statement(
        self, worker: _CopyWorker
    ) -> Generator[tuple[bytes, int], None, int]:
        """Yield one statement's chunks from its worker; return its row count."""
        while True:
            item = worker.chunks.get()
            if isinstance(item, _StatementEnd):
                return item.rowcount
            if isinstance(item, _WorkerEnd):
                # A worker ends early only on an error.
                raise item.error or RuntimeError("COPY worker ended early")
            yield item

    def close(self) -> None:
        """Stop the COPYs still running, and wait for their threads to end."""
        for worker in self.workers:
            if worker.thread.is_alive():
                worker.cancel()
        for worker in self.workers:
            if worker.thread.ident is not None:
                worker.thread.join()


@contextlib.contextmanager
def snapshot_cursors(db: Any, cursor: Any, count: int) -> Iterator[list[Any]]:
    """Open up to `count` more connections reading what `cursor`'s transaction reads.

    `db` is the Django connection `cursor` belongs to; its transaction must
    be REPEATABLE READ. Its snapshot is exported and imported into each new,
    read-only transaction, as pg_dump does for its parallel jobs, so that
    every connection sees the table at the same moment. The connections are
    closed, and their transactions rolled back, on leaving.
    """
    if count == 0:
        yield []
        return

    cursor.execute("SELECT pg_export_snapshot()")
    (snapshot,) = cursor.fetchone()
    opened = []
    try:
        cursors = []
        for _ in range(count):
            # Django's own connection settings, without Django's bookkeeping:
            # these connections live for one export, in this function.
            try:
                raw = db.get_new_connection(db.get_connection_params())
            except psycopg2.OperationalError as error:
                # Out of connections, say: the work goes to those open.
                logger.warning("Reading on fewer connections: %s", type(error).__name__)
                break
            opened.append(raw)
            raw.set_session(
                isolation_level=ISOLATION_LEVEL_REPEATABLE_READ, readonly=True
            )
            other = raw.cursor()
            with db.wrap_database_errors:
                other.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
            cursors.append(other)
        yield cursors
    finally:
        for raw in opened:
            raw.close()
