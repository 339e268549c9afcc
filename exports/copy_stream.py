"""Stream the output of a PostgreSQL `COPY ... TO STDOUT` while it runs.

psycopg2's `copy_expert` hands every row to a file's `write()` and returns only
when COPY ends, so it runs in a worker thread, writing into a bounded queue
that the caller iterates. When the queue is full the thread blocks, stops
reading from the socket, and PostgreSQL waits: memory stays flat however many
rows there are. Closing the iterator early cancels the COPY.
"""

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import Any

# Bytes per chunk handed out, and chunks waiting at most: about 1 MiB held.
CHUNK_BYTES = 64 * 1024
MAX_CHUNKS = 16
# How often a blocked writer looks whether the reader has gone.
POLL_SECONDS = 0.1

_END = None


class CopyCancelled(Exception):
    """Raised inside the worker thread to stop COPY when nobody reads any more."""


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


class CopyOut:
    """Iterate `(chunk, rows in it)` of a COPY TO STDOUT run on `cursor`.

    `cursor` is a Django cursor on a PostgreSQL connection (psycopg2). From
    the moment iteration starts until it ends, the connection belongs to the
    worker thread: the caller must not use it (only `close()` touches it, to
    send a cancel request, which libpq allows from any thread). `rowcount` is
    COPY's own count once it has finished.
    """

    def __init__(
        self,
        cursor: Any,
        sql: str,
        params: list[Any],
        *,
        chunk_bytes: int = CHUNK_BYTES,
        max_chunks: int = MAX_CHUNKS,
    ) -> None:
        self.cursor = cursor
        # COPY takes no bind parameters, so the driver binds them into the
        # text, quoting each value as it does for every psycopg2 statement.
        self.sql = cursor.mogrify(sql, params).decode()
        self.chunks: queue.Queue = queue.Queue(maxsize=max_chunks)
        self.writer = _ChunkWriter(self.chunks, chunk_bytes)
        self.thread = threading.Thread(target=self._copy, name="copy-out", daemon=True)
        self.rowcount: int | None = None
        self.error: BaseException | None = None
        # Held while a cancel request could still reach this COPY, so that
        # none reaches whatever statement runs on the connection after it.
        self._copying = threading.Lock()
        self._copy_running = False

    def __iter__(self) -> Iterator[tuple[bytes, int]]:
        with self._copying:
            self._copy_running = True
        self.thread.start()
        try:
            while (item := self.chunks.get()) is not _END:
                yield item
        finally:
            self.close()
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Stop the COPY if it still runs, and wait for the thread to end."""
        if not self.thread.is_alive():
            return
        self.writer.cancelled = True
        with self._copying:
            if self._copy_running:
                # Without it PostgreSQL would compute every remaining row, and
                # the next statement would wait while libpq drained them.
                self.cursor.connection.cancel()
        self.thread.join()

    def _copy(self) -> None:
        try:
            with self.cursor.db.wrap_database_errors:
                self.cursor.copy_expert(self.sql, self.writer)
            self.rowcount = self.cursor.rowcount
            self.writer.flush()
        except BaseException as error:  # handed to the reading thread
            self.error = error
        finally:
            with self._copying:
                self._copy_running = False
            # A reader that has gone waits for no end marker.
            with contextlib.suppress(CopyCancelled):
                self.writer.put(_END)
