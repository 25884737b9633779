"""Blocking HTTP on `http.client`, run in worker threads, with a small keep-alive pool.

Request bodies are sent as they come (chunked transfer encoding for iterators and files of
unknown size); response bodies are read lazily. Nothing here buffers a streamed body.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import http.client
import io
import json as _json
import os
import select
import socket
import ssl
import stat
import threading
import time
from collections.abc import AsyncIterable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .errors import AlterConfigurationError, AlterConnectionError, AlterTimeoutError
from .response import Headers

T = TypeVar("T")

#: Methods a stale keep-alive connection may be retried for (the request was not processed).
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: Idle pooled connections older than this are not reused (Node's server closes them after 5 s).
MAX_IDLE_SECONDS = 4.0
MAX_IDLE_PER_HOST = 8
READ_BLOCK = 64 * 1024
_STALE_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


# ---------------------------------------------------------------------------------------------
# Request bodies
# ---------------------------------------------------------------------------------------------


@dataclass
class PreparedBody:
    """A request body: nothing, bytes (replayable), or a stream made on the worker thread."""

    data: bytes | None = None
    #: Builds the chunk iterator; called on the worker thread with the event loop (for async iterables).
    stream: Callable[[asyncio.AbstractEventLoop | None], Iterator[bytes]] | None = None
    #: Known length of a stream (a regular file), else None (chunked).
    length: int | None = None
    content_type: str | None = None

    @property
    def replayable(self) -> bool:
        return self.stream is None


def _as_bytes(chunk: Any) -> bytes | bytearray | memoryview:
    if isinstance(chunk, (bytes, bytearray)):
        return chunk
    if isinstance(chunk, memoryview):
        return chunk.cast("B") if chunk.format != "B" or chunk.ndim != 1 else chunk
    if isinstance(chunk, str):
        return chunk.encode("utf-8")
    raise TypeError(f"body: an iterator must yield bytes (or str), got {type(chunk).__name__}")


def _iterate_sync(source: Iterable[Any]) -> Iterator[bytes]:
    for chunk in source:
        data = _as_bytes(chunk)
        if len(data):
            yield data  # type: ignore[misc]


def _iterate_file(fileobj: Any) -> Iterator[bytes]:
    while True:
        chunk = fileobj.read(READ_BLOCK)
        if not chunk:
            return
        yield _as_bytes(chunk)  # type: ignore[misc]


def _iterate_async(source: AsyncIterable[Any], loop: asyncio.AbstractEventLoop | None) -> Iterator[bytes]:
    """Pulls an async iterable from a worker thread, one chunk at a time, on the caller's loop."""
    if loop is None:  # pragma: no cover - the vault always passes its loop
        raise RuntimeError("an async iterable body needs the event loop")
    iterator = source.__aiter__()
    finished = False
    try:
        while True:
            future = asyncio.run_coroutine_threadsafe(iterator.__anext__(), loop)  # type: ignore[arg-type]
            try:
                chunk = future.result()
            except StopAsyncIteration:
                finished = True
                return
            data = _as_bytes(chunk)
            if len(data):
                yield data  # type: ignore[misc]
    finally:
        closer = getattr(iterator, "aclose", None)
        if not finished and closer is not None:
            try:
                asyncio.run_coroutine_threadsafe(closer(), loop).result(timeout=5)
            except Exception:
                pass


def _file_length(fileobj: Any) -> int | None:
    """Bytes left in a regular file opened in binary mode, else None."""
    if isinstance(fileobj, io.TextIOBase):
        return None
    try:
        st = os.fstat(fileobj.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        return max(0, st.st_size - fileobj.tell())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def prepare_body(body: Any, json_value: Any, *, json_given: bool) -> PreparedBody:
    """Turns `body=` / `json=` into a PreparedBody (nothing is read from streams here)."""
    if json_given:
        if body is not None:
            raise AlterConfigurationError("give either body= or json=, not both")
        try:
            data = _json.dumps(json_value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as err:
            raise AlterConfigurationError(f"json: not JSON-serializable: {err}") from None
        return PreparedBody(data=data, content_type="application/json")
    if body is None:
        return PreparedBody()
    if isinstance(body, (bytes, bytearray, memoryview)):
        return PreparedBody(data=bytes(body))
    if isinstance(body, str):
        return PreparedBody(data=body.encode("utf-8"), content_type="text/plain; charset=utf-8")
    if isinstance(body, (dict, list)) or isinstance(body, (int, float, bool)):
        raise AlterConfigurationError(f"body: a {type(body).__name__} is not a body; send JSON with json=…")
    if hasattr(body, "read"):
        length = _file_length(body)
        return PreparedBody(stream=lambda _loop: _iterate_file(body), length=length)
    if hasattr(body, "__aiter__"):
        return PreparedBody(stream=lambda loop: _iterate_async(body, loop))
    if hasattr(body, "__iter__"):
        return PreparedBody(stream=lambda _loop: _iterate_sync(body))
    raise AlterConfigurationError(
        f"body: unsupported type {type(body).__name__}: use bytes, str, a binary file, an iterable or async iterable of bytes, or json="
    )


# ---------------------------------------------------------------------------------------------
# Connections
# ---------------------------------------------------------------------------------------------

PoolKey = tuple[str, str, int]


@dataclass
class CallState:
    """Shared between the awaiting task and the worker thread, so a timeout can abort the call."""

    conn: http.client.HTTPConnection | None = None
    abandoned: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, conn: http.client.HTTPConnection) -> None:
        with self.lock:
            self.conn = conn
            if self.abandoned:
                _shutdown(conn)

    def abandon(self) -> None:
        with self.lock:
            self.abandoned = True
            if self.conn is not None:
                _shutdown(self.conn)


def _shutdown(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _is_stale(conn: http.client.HTTPConnection) -> bool:
    """A pooled socket that is readable is at EOF (or has junk): do not reuse it."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class Transport:
    """HTTP(S) connections to Alter, pooled per (scheme, host, port)."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self._idle: dict[PoolKey, list[tuple[float, http.client.HTTPConnection]]] = {}
        self._lock = threading.Lock()
        self._closed = False

    @staticmethod
    def key_of(url: str) -> tuple[PoolKey, str]:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        return (scheme, host, port), target

    def _new(self, key: PoolKey, timeout: float | None) -> http.client.HTTPConnection:
        scheme, host, port = key
        if scheme == "https":
            context = self._ssl_context or ssl.create_default_context()
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=context, blocksize=READ_BLOCK)
        return http.client.HTTPConnection(host, port, timeout=timeout, blocksize=READ_BLOCK)

    def _checkout(self, key: PoolKey) -> http.client.HTTPConnection | None:
        now = time.monotonic()
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    return None
                since, conn = idle.pop()
            if now - since <= MAX_IDLE_SECONDS and not _is_stale(conn):
                return conn
            conn.close()

    def release(self, key: PoolKey, conn: http.client.HTTPConnection) -> None:
        """Returns a connection whose response was read to the end."""
        if conn.sock is None:
            return
        with self._lock:
            if not self._closed:
                idle = self._idle.setdefault(key, [])
                if len(idle) < MAX_IDLE_PER_HOST:
                    idle.append((time.monotonic(), conn))
                    return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pools, self._idle = self._idle, {}
        for idle in pools.values():
            for _, conn in idle:
                conn.close()

    def perform(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: PreparedBody,
        timeout: float | None,
        state: CallState,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> tuple[PoolKey, http.client.HTTPConnection, http.client.HTTPResponse]:
        """Sends the request and reads the status line and headers (blocking)."""
        key, target = self.key_of(url)
        conn = self._checkout(key) if body.replayable else None
        reused = conn is not None
        while True:
            if conn is None:
                conn = self._new(key, timeout)
            else:
                conn.timeout = timeout
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
            state.attach(conn)
            sending = True
            try:
                try:
                    self._send(conn, method, target, headers, body, loop)
                    sending = False
                    response = conn.getresponse()
                except OSError as send_error:
                    if not sending or isinstance(send_error, socket.timeout):
                        raise
                    # The server may have answered early (e.g. refused a large upload) and closed
                    # the connection: its answer is still readable, and better than a reset.
                    try:
                        response = conn.getresponse()
                    except Exception:
                        raise send_error from None
                    response.will_close = True
            except _STALE_ERRORS:
                conn.close()
                if reused and not state.abandoned and (sending or method in IDEMPOTENT):
                    conn, reused = None, False  # the pooled connection had been closed: once more on a new one
                    continue
                raise
            except BaseException:
                conn.close()
                raise
            if state.abandoned:
                conn.close()
                raise socket.timeout("abandoned")
            return key, conn, response

    @staticmethod
    def _send(
        conn: http.client.HTTPConnection,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: PreparedBody,
        loop: asyncio.AbstractEventLoop | None,
    ) -> None:
        # skip_accept_encoding: never ask for compressed bodies we would have to decode
        conn.putrequest(method, target, skip_accept_encoding=True)
        names = {name.lower() for name, _ in headers}
        for name, value in headers:
            conn.putheader(name, value)
        if body.stream is None:
            data = body.data
            if data is not None or method in ("POST", "PUT", "PATCH"):
                if "content-length" not in names:
                    conn.putheader("Content-Length", str(len(data or b"")))
            conn.endheaders(data or None)
            return
        chunked = "content-length" not in names and body.length is None
        if "content-length" not in names and body.length is not None:
            conn.putheader("Content-Length", str(body.length))
        if chunked and "transfer-encoding" not in names:
            conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        chunks = body.stream(loop)
        try:
            Transport._send_chunks(conn, chunks, chunked)
        finally:
            chunks.close()  # here, on the worker thread (an async source is closed on its loop)

    @staticmethod
    def _send_chunks(conn: http.client.HTTPConnection, chunks: Iterator[bytes], chunked: bool) -> None:
        for chunk in chunks:
            if chunked:
                size = f"{len(chunk):X}\r\n".encode("ascii")
                if len(chunk) <= READ_BLOCK:
                    conn.send(size + bytes(chunk) + b"\r\n")
                else:  # large chunks: no copy
                    conn.send(size)
                    conn.send(chunk)
                    conn.send(b"\r\n")
            else:
                conn.send(chunk)
        if chunked:
            conn.send(b"0\r\n\r\n")


class BodyReader:
    """The unread body of a response; blocking reads, called from worker threads."""

    def __init__(self, transport: Transport, key: PoolKey, conn: http.client.HTTPConnection, response: http.client.HTTPResponse) -> None:
        self._transport = transport
        self._key = key
        self._conn = conn
        self._response = response
        self.done = False

    def read(self, size: int = READ_BLOCK) -> bytes:
        if self.done:
            return b""
        try:
            chunk = self._response.read1(size) if size > 0 else self._response.read()
        except BaseException:
            self.close()
            raise
        if not chunk:
            missing = self._response.length  # http.client's read1 ends quietly on a cut body
            if size > 0 and missing:
                self.close()
                raise http.client.IncompleteRead(b"", missing)
            self._finish()
        return chunk

    def read_all(self) -> bytes:
        if self.done:
            return b""
        try:
            data = self._response.read()
        except BaseException:
            self.close()
            raise
        self._finish()
        return data

    def _finish(self) -> None:
        self.done = True
        try:
            self._response.read()  # closes the response (HEAD, empty bodies)
        except Exception:
            pass
        if self._response.isclosed() and not self._response.will_close:
            self._transport.release(self._key, self._conn)
        else:
            self._conn.close()

    def close(self) -> None:
        """Drops the connection (an unread body cannot be skipped cheaply)."""
        if not self.done:
            self.done = True
            self._response.close()
            self._conn.close()


# ---------------------------------------------------------------------------------------------
# Running blocking calls from asyncio
# ---------------------------------------------------------------------------------------------


class Runner:
    """Runs blocking calls on the SDK's own worker threads (so long uploads do not starve
    asyncio's default executor), with a deadline that aborts the socket."""

    def __init__(self, max_workers: int = 32) -> None:
        self._max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self._max_workers, thread_name_prefix="alter-sdk")
            return self._executor

    async def run(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()
        return await loop.run_in_executor(self._pool(), functools.partial(ctx.run, fn))

    async def run_io(self, fn: Callable[[], T], what: str) -> T:
        """Runs a blocking read of a response body; network errors become SDK errors."""
        try:
            return await self.run(fn)
        except socket.timeout as err:
            raise AlterTimeoutError(f"{what}: timed out") from err
        except (OSError, http.client.HTTPException) as err:
            raise AlterConnectionError(f"{what}: {describe(err)}") from err

    async def run_with_deadline(self, fn: Callable[[], T], timeout: float | None, state: CallState, what: str) -> T:
        """Runs `fn`; on timeout or cancellation the call's socket is shut down so the thread ends."""
        future = asyncio.ensure_future(self.run(fn))
        try:
            if timeout is None:
                return await asyncio.shield(future)
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except asyncio.CancelledError:
            state.abandon()
            _discard_later(future)
            raise
        except (asyncio.TimeoutError, socket.timeout) as err:  # the deadline, or a socket timeout in the thread
            if not future.done():
                state.abandon()
                _discard_later(future)
            limit = f" within {timeout:g} s" if timeout is not None else ""
            raise AlterTimeoutError(f"{what}: no answer{limit}") from (err if future.done() else None)
        except (OSError, http.client.HTTPException) as err:
            raise AlterConnectionError(f"{what}: {describe(err)}") from err

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


def _discard_later(future: asyncio.Future[Any]) -> None:
    """Closes whatever an abandoned call still produces."""

    def done(f: asyncio.Future[Any]) -> None:
        if f.cancelled():
            return
        if f.exception() is not None:
            return
        discard = getattr(f.result(), "discard", None)
        if callable(discard):
            discard()

    future.add_done_callback(done)


def describe(err: BaseException) -> str:
    if isinstance(err, ConnectionRefusedError):
        return "connection refused (is Alter running?)"
    if isinstance(err, socket.gaierror):
        return f"cannot resolve the host name ({err.strerror or err})"
    if isinstance(err, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(err, ssl.SSLError):
        return f"TLS error: {err}"
    text = str(err) or type(err).__name__
    return text


async def simple_call(
    transport: Transport,
    runner: Runner,
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    data: bytes | None,
    timeout: float | None,
    what: str,
) -> tuple[int, Headers, bytes]:
    """A small request whose whole answer is read (discovery, token exchange, Connect)."""
    state = CallState()
    body = PreparedBody(data=data)

    def call() -> tuple[int, Headers, bytes]:
        key, conn, response = transport.perform(method, url, headers, body, timeout, state)
        reader = BodyReader(transport, key, conn, response)
        content = reader.read_all()
        return response.status, Headers(response.getheaders()), content

    return await runner.run_with_deadline(call, timeout, state, what)
