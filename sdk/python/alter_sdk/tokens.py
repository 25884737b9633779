"""Agent-key mode: Alter access tokens by RFC 8693 token exchange, cached per grant and run."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .errors import TokenExchangeError
from .jwt import SigningKey, client_assertion
from .response import Headers

__all__ = ["TokenManager", "CachedToken", "TOKEN_EXCHANGE_GRANT", "CONNECTION_TOKEN_TYPE", "CLIENT_ASSERTION_TYPE"]

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
CONNECTION_TOKEN_TYPE = "urn:alter:params:oauth:token-type:connection"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

#: Lifetime assumed when the token response has no `expires_in`.
DEFAULT_LIFETIME = 60.0
#: Renew when less than max(MIN_MARGIN, MARGIN_FRACTION × lifetime) remains.
MIN_MARGIN = 30.0
MARGIN_FRACTION = 0.1

CacheKey = tuple[str, "str | None", "str | None"]
HttpCall = Callable[[str, str, list[tuple[str, str]], "bytes | None", str], Awaitable[tuple[int, Headers, bytes]]]


@dataclass
class CachedToken:
    access_token: str
    lifetime: float
    expires_at: float  # time.monotonic()
    scope: str | None = None

    def fresh(self, now: float) -> bool:
        return self.expires_at - now >= max(MIN_MARGIN, MARGIN_FRACTION * self.lifetime)


def _json(content: bytes) -> Any:
    try:
        return json.loads(content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


class TokenManager:
    """Gets, caches and renews Alter access tokens for one agent.

    Concurrent callers for the same (grant, run, thread) share one in-flight exchange.
    `exchange_count` counts token requests made (for tests and metrics).
    """

    def __init__(self, *, base_url: str, client_id: str, key: SigningKey, call: HttpCall, key_issuer: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._base_url = base_url
        self.client_id = client_id
        self._key = key
        self._call = call
        self._key_issuer = key_issuer
        self._clock = clock
        self._issuer: str | None = None
        self._issuer_task: asyncio.Task[str] | None = None
        self._cache: dict[CacheKey, CachedToken] = {}
        self._inflight: dict[CacheKey, asyncio.Task[CachedToken]] = {}
        self.exchange_count = 0

    # -- discovery -------------------------------------------------------------------------------
    async def issuer(self) -> str:
        """The `issuer` of Alter's RFC 8414 metadata (fetched once): the assertion's audience."""
        if self._issuer is not None:
            return self._issuer
        task = self._issuer_task
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            self._issuer_task = asyncio.ensure_future(self._discover())
        self._issuer = await asyncio.shield(self._issuer_task)
        return self._issuer

    async def _discover(self) -> str:
        url = f"{self._base_url}/.well-known/oauth-authorization-server"
        status, _headers, content = await self._call("GET", url, [("Accept", "application/json")], None, f"GET {url}")
        body = _json(content)
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("issuer"), str) or not body["issuer"]:
            raise TokenExchangeError(
                "discovery_failed",
                f"{url} answered HTTP {status} without an issuer; is {self._base_url} an Alter server?",
                status=status,
                body=body,
            )
        return body["issuer"]

    # -- tokens ----------------------------------------------------------------------------------
    def cached(self, grant_id: str, run_id: str | None = None, thread_id: str | None = None) -> CachedToken | None:
        return self._cache.get((grant_id, run_id, thread_id))

    async def token(self, grant_id: str, run_id: str | None = None, thread_id: str | None = None) -> str:
        key: CacheKey = (grant_id, run_id, thread_id)
        entry = self._cache.get(key)
        if entry is not None and entry.fresh(self._clock()):
            return entry.access_token
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._exchange(key))
            self._inflight[key] = task
            task.add_done_callback(lambda t, k=key: self._settle(k, t))
        entry = await asyncio.shield(task)
        return entry.access_token

    def _settle(self, key: CacheKey, task: asyncio.Task[CachedToken]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled() and task.exception() is None:
            self._cache[key] = task.result()
        elif not task.cancelled():
            task.exception()  # retrieved: no "never retrieved" warning when nobody waits

    def invalidate(self, grant_id: str, run_id: str | None, thread_id: str | None, access_token: str) -> None:
        """Drops a token Alter refused (only if it is still the cached one)."""
        key: CacheKey = (grant_id, run_id, thread_id)
        entry = self._cache.get(key)
        if entry is not None and entry.access_token == access_token:
            del self._cache[key]

    def clear(self) -> None:
        self._cache.clear()

    async def _exchange(self, key: CacheKey) -> CachedToken:
        grant_id, run_id, thread_id = key
        issuer = await self.issuer()
        form = {
            "grant_type": TOKEN_EXCHANGE_GRANT,
            "subject_token": grant_id,
            "subject_token_type": CONNECTION_TOKEN_TYPE,
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": client_assertion(self._key, self.client_id, issuer),
        }
        if run_id is not None:
            form["run_id"] = run_id
        if thread_id is not None:
            form["thread_id"] = thread_id
        url = f"{self._base_url}/v1/token"
        headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")]
        self.exchange_count += 1
        started = self._clock()
        status, _headers, content = await self._call("POST", url, headers, urlencode(form).encode("ascii"), f"POST {url}")
        body = _json(content)
        if status == 200 and isinstance(body, dict) and isinstance(body.get("access_token"), str) and body["access_token"]:
            expires_in = body.get("expires_in")
            lifetime = float(expires_in) if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) and expires_in > 0 else DEFAULT_LIFETIME
            scope = body.get("scope") if isinstance(body.get("scope"), str) else None
            return CachedToken(body["access_token"], lifetime, started + lifetime, scope)
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            code = body["error"]
            description = body.get("error_description") if isinstance(body.get("error_description"), str) else None
            if code == "invalid_client":
                hint = f"check that agent {self.client_id} exists and is enabled and that the private key is its key"
                if self._key_issuer and self._key_issuer != issuer:
                    hint = f"the key file was made for {self._key_issuer} but {self._base_url} is {issuer}; " + hint
                description = f"{description}; {hint}" if description else hint
            raise TokenExchangeError(code, description, status=status, body=body)
        raise TokenExchangeError(
            "invalid_response",
            f"{url} answered HTTP {status} without an access token; is {self._base_url} an Alter server?",
            status=status,
            body=body,
        )

