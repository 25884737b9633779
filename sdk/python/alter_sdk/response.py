"""The response of `vault.request(...)`."""

from __future__ import annotations

import json as _json
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._http import BodyReader, Runner

__all__ = ["Headers", "Response"]


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only response headers.

    `headers["content-type"]` joins repeated headers with ", "; `get_list(name)` gives every value.
    Iterating yields lower-case names.
    """

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: list[tuple[str, str]] = [(str(k), str(v)) for k, v in pairs]
        self._map: dict[str, list[str]] = {}
        for name, value in self._items:
            self._map.setdefault(name.lower(), []).append(value)

    def __getitem__(self, name: str) -> str:
        return ", ".join(self._map[name.lower()])

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def get_list(self, name: str) -> list[str]:
        """Every value of a header, in order (e.g. several `Link` headers)."""
        return list(self._map.get(name.lower(), []))

    def raw_items(self) -> list[tuple[str, str]]:
        """The headers as received: (name, value) pairs, names in their original case."""
        return list(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self)!r})"


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "charset" and value:
            return value.strip().strip('"')
    return None


class Response:
    """An HTTP response from the provider's API, passed through by Alter.

    - `status_code`, `reason`, `headers` (case-insensitive), `url` (the target URL you asked
      for), `proxy_url` (the Alter URL actually called);
    - `content` (bytes), `text`, `json()` once the body is read (always, unless `stream=True`);
    - `async for chunk in response.aiter_bytes()` streams the body; `await response.aread()`
      reads the rest; `await response.aclose()` releases an unread body.
    """

    def __init__(
        self,
        status_code: int,
        headers: Headers,
        *,
        url: str,
        proxy_url: str,
        reason: str = "",
        content: bytes | None = None,
        reader: BodyReader | None = None,
        runner: Runner | None = None,
    ) -> None:
        self.status_code = status_code
        self.reason = reason
        self.headers = headers
        self.url = url
        self.proxy_url = proxy_url
        self._content = content
        self._reader = reader
        self._runner = runner
        self._streamed = False
        if content is None and reader is None:
            self._content = b""

    # -- status --------------------------------------------------------------------------------
    @property
    def status(self) -> int:
        """Alias of `status_code`."""
        return self.status_code

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 400

    @property
    def is_closed(self) -> bool:
        return self._reader is None or self._reader.done

    # -- whole body ----------------------------------------------------------------------------
    @property
    def content(self) -> bytes:
        """The whole body. With `stream=True`, call `await response.aread()` first."""
        if self._content is None:
            if self._streamed:
                raise RuntimeError("the body was consumed by aiter_bytes(); it is not kept")
            raise RuntimeError("the body has not been read: this is a streaming response; use `await response.aread()` or `aiter_bytes()`")
        return self._content

    @property
    def encoding(self) -> str:
        return _charset(self.headers.get("content-type")) or "utf-8"

    @property
    def text(self) -> str:
        try:
            return self.content.decode(self.encoding, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON."""
        return _json.loads(self.content, **kwargs)

    async def aread(self) -> bytes:
        """Reads the rest of a streaming body and keeps it (`content`, `text`, `json()`)."""
        if self._content is not None:
            return self._content
        if self._streamed:
            raise RuntimeError("the body was consumed by aiter_bytes(); it is not kept")
        assert self._reader is not None and self._runner is not None
        self._content = await self._runner.run_io(self._reader.read_all, f"reading the body of {self.url}")
        return self._content

    # -- streaming -----------------------------------------------------------------------------
    async def aiter_bytes(self, chunk_size: int = 64 * 1024) -> AsyncIterator[bytes]:
        """Yields the body in chunks of at most `chunk_size` bytes as they arrive."""
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        if self._content is not None:
            for start in range(0, len(self._content), chunk_size):
                yield self._content[start : start + chunk_size]
            return
        if self._streamed:
            raise RuntimeError("the body was already consumed")
        assert self._reader is not None and self._runner is not None
        self._streamed = True
        reader, run_io, what = self._reader, self._runner.run_io, f"reading the body of {self.url}"
        try:
            while True:
                chunk = await run_io(lambda: reader.read(chunk_size), what)
                if not chunk:
                    return
                yield chunk
        finally:
            if not reader.done:
                reader.close()

    async def aclose(self) -> None:
        """Releases the connection of a body that was not read (nothing to do otherwise)."""
        if self._reader is not None and not self._reader.done:
            self._reader.close()

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}] {self.url}>"
