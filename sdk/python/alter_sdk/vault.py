"""`AlterVault`: call any provider's API through Alter's proxy without holding the credential."""

from __future__ import annotations

import asyncio
import inspect
import json as _json
import os
import re
import ssl
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from ._http import BodyReader, CallState, PreparedBody, Runner, Transport, prepare_body, simple_call
from .enums import ActorType, HttpMethod
from .errors import (
    AlterConfigurationError,
    AlterConnectionError,
    AlterError,
    ConnectError,
    UpstreamError,
    UpstreamUnavailableError,
    error_from_alter_response,
)
from .jwt import SigningKey
from .response import Headers, Response
from .tokens import TokenManager
from .url import QueryParams, normalize_base_url, proxy_url, target_url, validate_grant_id

__all__ = ["AlterVault", "ConnectResult"]

APP_KEY_PREFIX = "alter_key_"
DEFAULT_BASE_URL = "http://localhost:8080"
#: Timeout of Alter's own endpoints (discovery, token exchange, Connect), in seconds.
CONTROL_TIMEOUT = 30.0

_UNSET: Any = object()
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEADER_VALUE_BAD = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # tab is allowed inside values
#: Headers about the connection to Alter itself: never forwarded by Alter, so dropped here.
_CONNECTION_HEADERS = frozenset({"host", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"})
_TRANSIENT_POLL_ERRORS = (AlterConnectionError, UpstreamUnavailableError)

HeadersArg = Union[Mapping[str, Any], Iterable[tuple[str, Any]], None]
OnUrl = Callable[[str], Union[None, Awaitable[Any]]]


@dataclass(frozen=True)
class ConnectResult:
    """What `vault.connect(...)` returns once the end user has connected."""

    connection_id: str
    provider: str | None
    session: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class _Raw:
    status: int
    reason: str
    headers: Headers
    content: bytes | None
    reader: BodyReader | None

    def discard(self) -> None:
        if self.reader is not None:
            self.reader.close()


def _method(method: Any) -> str:
    name = method.value if isinstance(method, HttpMethod) else method
    if not isinstance(name, str) or name.upper() not in HttpMethod.__members__:
        raise AlterConfigurationError(f"method must be one of {', '.join(HttpMethod.__members__)}, got {method!r}")
    return name.upper()


def _header_value(name: str, value: Any, where: str) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, (int, float)):
        value = str(value)
    elif isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str):
        raise AlterConfigurationError(f"{where}: the value of {name} must be a string, not {type(value).__name__}")
    if _HEADER_VALUE_BAD.search(value):
        raise AlterConfigurationError(f"{where}: the value of {name} contains a line break or control character")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise AlterConfigurationError(f"{where}: the value of {name} has characters HTTP headers cannot carry (only ISO-8859-1); percent-encode it") from None
    return value


def _user_headers(headers: HeadersArg) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    result: list[tuple[str, str]] = []
    for entry in items:
        try:
            name, value = entry
        except (TypeError, ValueError):
            raise AlterConfigurationError("headers must be a mapping or a list of (name, value) pairs") from None
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise AlterConfigurationError(f"headers: {name!r} is not a valid header name")
        lower = name.lower()
        if lower == "authorization":
            raise AlterConfigurationError("headers: Authorization is set by Alter (it injects the provider's credential); remove it")
        if lower.startswith("alter-"):
            raise AlterConfigurationError(
                f"headers: {name} is set by the SDK, not by you (use run_id=, thread_id=, tool_call_id=, task= for the run context)"
            )
        if lower in _CONNECTION_HEADERS or lower.startswith("proxy-"):
            continue  # about the hop to Alter; Alter never forwards them
        if value is None:
            continue
        result.append((name, _header_value(name, value, "headers")))
    return result


def _run_header(name: str, value: Any) -> list[tuple[str, str]]:
    if value is None or value == "":
        return []
    if not isinstance(value, str):
        raise AlterConfigurationError(f"{name} must be a string")
    if _CONTROL.search(value):
        raise AlterConfigurationError(f"{name} must not contain control characters")
    header = {"run_id": "Alter-Run-Id", "thread_id": "Alter-Thread-Id", "tool_call_id": "Alter-Tool-Call-Id", "task": "Alter-Task"}[name]
    return [(header, _header_value(header, value, name))]


def _load_key_file(path: Any) -> dict[str, Any]:
    try:
        with open(os.fspath(path), encoding="utf-8") as handle:
            text = handle.read()
    except OSError as err:
        raise AlterConfigurationError(f"key_file: cannot read {path}: {err.strerror or err}") from None
    try:
        data = _json.loads(text)
    except ValueError:
        raise AlterConfigurationError(f"key_file: {path} is not valid JSON") from None
    if not isinstance(data, dict):
        raise AlterConfigurationError(f"key_file: {path} is not a JWK")
    return data


def _private_jwk(raw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the private JWK, the object that may carry client_id / issuer): a JWK or a JWKS with one private key."""
    if isinstance(raw, str):
        try:
            raw = _json.loads(raw)
        except ValueError:
            raise AlterConfigurationError("private_key must be a private JWK (a dict, or its JSON text)") from None
    if not isinstance(raw, Mapping):
        raise AlterConfigurationError("private_key must be a private JWK (a dict), e.g. the contents of the key file written by `alter agent create`")
    keys = raw.get("keys")
    if isinstance(keys, list):
        private = [k for k in keys if isinstance(k, Mapping) and "d" in k]
        if len(private) != 1:
            raise AlterConfigurationError(f"private_key is a JWKS: it must hold exactly one private key (it has {len(private)})")
        return dict(private[0]), dict(raw)
    return dict(raw), dict(raw)


class AlterVault:
    """Client of one Alter server.

    App-key mode (an app backend acting as one of its registered agents)::

        AlterVault(api_key="alter_key_…", actor_type=ActorType.AI_AGENT, actor_identifier="calendar-agent", base_url=…)

    Agent-key mode (the agent authenticates with its own private key and gets Alter tokens)::

        AlterVault(key_file="./calendar-agent.jwk.json", base_url=…)
        AlterVault(client_id="agt_…", private_key={...private JWK...}, base_url=…)

    `base_url` defaults to $ALTER_URL, else http://localhost:8080. `timeout` (seconds, default
    None: no limit) is the default of `request(timeout=…)`. Use `async with AlterVault(...) as vault:`
    or call `await vault.aclose()`.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        actor_type: ActorType | str | None = None,
        actor_identifier: str | None = None,
        client_id: str | None = None,
        private_key: Mapping[str, Any] | str | None = None,
        key_file: str | os.PathLike[str] | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_workers: int = 32,
    ) -> None:
        self.base_url = normalize_base_url(base_url or os.environ.get("ALTER_URL") or DEFAULT_BASE_URL)
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
            raise AlterConfigurationError("timeout must be a positive number of seconds (or None)")
        self.timeout = timeout
        self._closed = False
        self._transport = Transport(ssl_context)
        self._runner = Runner(max_workers)
        self._api_key: str | None = None
        self._tokens: TokenManager | None = None
        self.actor_type: ActorType | None = None
        self.actor_identifier: str | None = None
        self.client_id: str | None = None

        agent_args = [n for n, v in (("client_id", client_id), ("private_key", private_key), ("key_file", key_file)) if v is not None]
        if api_key is not None:
            if agent_args:
                raise AlterConfigurationError(
                    f"give either api_key (app-key mode) or private_key/key_file (agent-key mode), not both (also got {', '.join(agent_args)})"
                )
            self._init_app_key(api_key, actor_type, actor_identifier)
        elif private_key is not None or key_file is not None:
            if actor_type is not None or actor_identifier is not None:
                raise AlterConfigurationError(
                    "actor_type / actor_identifier are for app-key mode; in agent-key mode the agent is the key's client_id"
                )
            self._init_agent_key(client_id, private_key, key_file)
        else:
            raise AlterConfigurationError(
                "AlterVault needs credentials: api_key='alter_key_…' with actor_type and actor_identifier (app-key mode), "
                "or key_file=… / client_id=… with private_key={…} (agent-key mode)"
                + (" (client_id alone is not enough: give the private key)" if client_id is not None else "")
            )

    def _init_app_key(self, api_key: Any, actor_type: Any, actor_identifier: Any) -> None:
        if not isinstance(api_key, str) or not api_key.startswith(APP_KEY_PREFIX) or len(api_key) == len(APP_KEY_PREFIX):
            raise AlterConfigurationError(f"api_key must be an app API key ({APP_KEY_PREFIX}…); create one with `alter app-key create`")
        if actor_type is None:
            raise AlterConfigurationError("actor_type is required with an api_key: ActorType.AI_AGENT or ActorType.BACKEND_SERVICE")
        try:
            self.actor_type = ActorType(actor_type.value if isinstance(actor_type, ActorType) else actor_type)
        except ValueError:
            raise AlterConfigurationError(f"actor_type must be 'ai_agent' or 'backend_service', got {actor_type!r}") from None
        if not isinstance(actor_identifier, str) or not actor_identifier.strip():
            raise AlterConfigurationError(
                "actor_identifier is required with an api_key: the name or client id of a registered agent (alter agent create --name …)"
            )
        _header_value("Alter-Actor-Id", actor_identifier, "actor_identifier")
        self.actor_identifier = actor_identifier
        self._api_key = api_key

    def _init_agent_key(self, client_id: Any, private_key: Any, key_file: Any) -> None:
        if private_key is not None and key_file is not None:
            raise AlterConfigurationError("give either private_key or key_file, not both")
        raw = _load_key_file(key_file) if key_file is not None else private_key
        jwk, container = _private_jwk(raw)
        file_client = jwk.get("client_id") if isinstance(jwk.get("client_id"), str) else container.get("client_id")
        if client_id is None:
            client_id = file_client
        if not isinstance(client_id, str) or not client_id:
            raise AlterConfigurationError("client_id is required: the key has no client_id member; pass client_id='agt_…'")
        issuer = jwk.get("issuer") if isinstance(jwk.get("issuer"), str) else container.get("issuer")
        key = SigningKey.from_jwk(jwk)
        self.client_id = client_id
        self._tokens = TokenManager(
            base_url=self.base_url,
            client_id=client_id,
            key=key,
            call=self._control_call,
            key_issuer=issuer if isinstance(issuer, str) else None,
        )

    # -- properties ----------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        """`"app_key"` or `"agent_key"`."""
        return "app_key" if self._api_key is not None else "agent_key"

    @property
    def exchange_count(self) -> int:
        """Token exchanges made so far (agent-key mode; 0 in app-key mode)."""
        return self._tokens.exchange_count if self._tokens is not None else 0

    @property
    def _exchange_count(self) -> int:
        return self.exchange_count

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this AlterVault is closed (aclose() was called); create a new one")

    def __repr__(self) -> str:
        who = f"actor={self.actor_identifier!r}" if self._api_key is not None else f"client_id={self.client_id!r}"
        return f"<AlterVault {self.base_url} {self.mode} {who}>"

    # -- lifecycle -----------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Closes pooled connections and the worker threads, forgets cached tokens."""
        self._closed = True
        if self._tokens is not None:
            self._tokens.clear()
        self._transport.close()
        self._runner.shutdown()

    async def __aenter__(self) -> AlterVault:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- Alter's own endpoints ---------------------------------------------------------------------
    async def _control_call(self, method: str, url: str, headers: list[tuple[str, str]], data: bytes | None, what: str) -> tuple[int, Headers, bytes]:
        return await simple_call(self._transport, self._runner, method, url, headers, data, CONTROL_TIMEOUT, what)

    async def _control_json(self, method: str, path: str, bearer: str, payload: Any = None) -> Any:
        url = f"{self.base_url}{path}"
        headers = [("Authorization", f"Bearer {bearer}"), ("Accept", "application/json")]
        data = None
        if payload is not None:
            headers.append(("Content-Type", "application/json"))
            data = _json.dumps(payload, separators=(",", ":")).encode("utf-8")
        status, response_headers, content = await self._control_call(method, url, headers, data, f"{method} {url}")
        if status >= 400 or "alter-error" in response_headers:
            raise error_from_alter_response(status, response_headers, content)
        try:
            return _json.loads(content.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise AlterError(status, "invalid_response", f"{method} {url} did not answer JSON; is {self.base_url} an Alter server?") from None

    # -- the proxy ---------------------------------------------------------------------------------
    async def request(
        self,
        grant_id: str,
        method: HttpMethod | str,
        url: str,
        *,
        path_params: Mapping[str, Any] | None = None,
        query_params: QueryParams | None = None,
        headers: HeadersArg = None,
        body: Any = None,
        json: Any = None,
        run_id: str | None = None,
        thread_id: str | None = None,
        tool_call_id: str | None = None,
        task: str | None = None,
        timeout: float | None = _UNSET,
        stream: bool = False,
    ) -> Response:
        """Calls `method url` on the provider's API through Alter with the credential of `grant_id`.

        `url` is absolute and may hold `{name}` placeholders filled from `path_params` (each
        value percent-encoded as one path segment). `query_params` are appended to the url's
        query (lists repeat the key; booleans are `true`/`false`). `body` is bytes, str, a binary
        file, or an iterable / async iterable of bytes (streamed with chunked encoding); `json`
        is any JSON value. `timeout` (seconds) bounds the time until the response headers (the
        whole body too unless `stream=True`) and each later read.

        Returns a `Response` (2xx/3xx). Raises an `AlterError` subclass when Alter refuses,
        `UpstreamError` when the provider answers >= 400, `AlterConnectionError` when Alter
        cannot be reached.
        """
        self._check_open()
        method_name = _method(method)
        grant = validate_grant_id(grant_id)
        target = target_url(url, path_params, query_params)
        alter_url = proxy_url(self.base_url, grant, target)
        out_headers = _user_headers(headers)
        prepared = prepare_body(body, json, json_given=json is not None)
        names = {name.lower() for name, _ in out_headers}
        if prepared.content_type and "content-type" not in names:
            out_headers.append(("Content-Type", prepared.content_type))
        if prepared.stream is None:
            out_headers = [(n, v) for n, v in out_headers if n.lower() != "content-length"]
        for name, value in (("run_id", run_id), ("thread_id", thread_id), ("tool_call_id", tool_call_id), ("task", task)):
            out_headers += _run_header(name, value)
        deadline = self.timeout if timeout is _UNSET else timeout
        if deadline is not None and (not isinstance(deadline, (int, float)) or deadline <= 0):
            raise AlterConfigurationError("timeout must be a positive number of seconds (or None)")

        if self._api_key is not None:
            auth = [
                ("Authorization", f"Bearer {self._api_key}"),
                ("Alter-Actor-Type", self.actor_type.value),  # type: ignore[union-attr]
                ("Alter-Actor-Id", self.actor_identifier),  # type: ignore[list-item]
            ]
            raw = await self._send(method_name, alter_url, auth + out_headers, prepared, deadline, stream)
        else:
            assert self._tokens is not None
            attempt = 0
            while True:
                token = await self._tokens.token(grant, run_id or None, thread_id or None)
                raw = await self._send(method_name, alter_url, [("Authorization", f"Bearer {token}")] + out_headers, prepared, deadline, stream)
                if raw.status == 401 and raw.headers.get("alter-error") == "invalid_token":
                    self._tokens.invalidate(grant, run_id or None, thread_id or None, token)
                    if attempt == 0 and prepared.replayable:
                        attempt += 1
                        continue
                break
        return self._response(raw, target, alter_url)

    async def _send(self, method: str, url: str, headers: list[tuple[str, str]], body: PreparedBody, timeout: float | None, stream: bool) -> _Raw:
        state = CallState()
        transport = self._transport
        loop = asyncio.get_running_loop()

        def call() -> _Raw:
            key, conn, response = transport.perform(method, url, headers, body, timeout, state, loop)
            reader = BodyReader(transport, key, conn, response)
            response_headers = Headers(response.getheaders())
            if not stream or response.status >= 400 or "alter-error" in response_headers:
                return _Raw(response.status, response.reason, response_headers, reader.read_all(), None)
            return _Raw(response.status, response.reason, response_headers, None, reader)

        return await self._runner.run_with_deadline(call, timeout, state, f"{method} {url}")

    def _response(self, raw: _Raw, target: str, alter_url: str) -> Response:
        if "alter-error" in raw.headers:
            raise error_from_alter_response(raw.status, raw.headers, raw.content or b"")
        response = Response(
            raw.status,
            raw.headers,
            url=target,
            proxy_url=alter_url,
            reason=raw.reason,
            content=raw.content,
            reader=raw.reader,
            runner=self._runner,
        )
        if raw.status >= 400:
            raise UpstreamError(response)
        return response

    # -- Connect ---------------------------------------------------------------------------------
    async def connect(
        self,
        end_user_id: str,
        *,
        providers: Iterable[str] | str | None = None,
        scopes: Iterable[str] | str | None = None,
        timeout: float = 300.0,
        poll_interval: float = 1.0,
        on_url: OnUrl | None = None,
    ) -> ConnectResult:
        """Connects an end user's account (headless Connect) and returns the new connection.

        Creates a Connect session, hands the headless link to `on_url(url)` (a function or
        coroutine function; it runs while the session is polled; without it the link is
        printed to stderr), then polls until the end user has finished: returns
        `ConnectResult(connection_id, provider)`, or raises `ConnectError` (`failed` with the
        provider's error, or `timeout`). App-key mode only.
        """
        self._check_open()
        if self._api_key is None:
            raise AlterConfigurationError("connect() needs app-key mode (api_key=…): Connect sessions are created by the app's backend")
        if not isinstance(end_user_id, str) or not end_user_id:
            raise AlterConfigurationError("end_user_id must be your app's id of the end user (a non-empty string)")
        payload: dict[str, Any] = {"end_user_id": end_user_id}
        provider_list = [providers] if isinstance(providers, str) else list(providers or [])
        if provider_list:
            payload["providers"] = provider_list
        scope_list = scopes.split() if isinstance(scopes, str) else list(scopes or [])
        if scope_list:
            payload["scopes"] = scope_list
        if timeout <= 0 or poll_interval <= 0:
            raise AlterConfigurationError("timeout and poll_interval must be positive")

        session = await self._control_json("POST", "/v1/connect/sessions", self._api_key, payload)
        token, connect_url = session.get("token"), session.get("connect_url")
        if not isinstance(token, str) or not isinstance(connect_url, str):
            raise AlterError(500, "invalid_response", "POST /v1/connect/sessions answered without token or connect_url", body=session)
        link = connect_url + ("&" if "?" in connect_url else "?") + "mode=headless"

        deadline = time.monotonic() + timeout
        callback: asyncio.Future[Any] | None = None
        if on_url is None:
            print(f"Open this link to connect your account:\n  {link}", file=sys.stderr, flush=True)
        else:
            result = on_url(link)
            if inspect.isawaitable(result):
                callback = asyncio.ensure_future(result)
        try:
            result = await self._poll_session(token, deadline, poll_interval, callback)
            if callback is not None and not callback.done():
                # let on_url finish (e.g. a page still loading), within what remains of the timeout
                await asyncio.wait({callback}, timeout=max(1.0, deadline - time.monotonic()))
            if callback is not None and callback.done() and not callback.cancelled() and callback.exception() is not None:
                raise callback.exception()  # type: ignore[misc]
            return result
        finally:
            if callback is not None and not callback.done():
                callback.cancel()

    async def _poll_session(self, token: str, deadline: float, interval: float, callback: asyncio.Future[Any] | None) -> ConnectResult:
        while True:
            if callback is not None and callback.done() and not callback.cancelled() and callback.exception() is not None:
                raise callback.exception()  # type: ignore[misc]
            try:
                status = await self._control_json("GET", "/v1/connect/session", token)
            except _TRANSIENT_POLL_ERRORS:
                status = None  # keep polling until the deadline
            if isinstance(status, Mapping):
                state = status.get("status")
                if state == "completed":
                    connection_id = status.get("connection_id")
                    if not isinstance(connection_id, str):
                        raise ConnectError("invalid_response", "the session completed without a connection_id", session=status)
                    provider = status.get("provider")
                    return ConnectResult(connection_id, provider if isinstance(provider, str) else None, dict(status))
                if state == "failed":
                    error = status.get("error") if isinstance(status.get("error"), str) else "failed"
                    description = status.get("error_description") if isinstance(status.get("error_description"), str) else None
                    raise ConnectError(error, description, session=status)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConnectError("timeout", "the end user did not finish connecting in time", session=status if isinstance(status, Mapping) else None)
            wait = min(interval, remaining)
            if callback is not None and not callback.done():
                # wakes early when on_url ends: its error is raised at once, else the next poll is made
                await asyncio.wait({callback}, timeout=wait)
            else:
                await asyncio.sleep(wait)
