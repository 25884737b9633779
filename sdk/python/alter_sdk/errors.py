"""Exceptions raised by the SDK.

Hierarchy::

    AlterSdkError
    ├── AlterError                    Alter refused or failed the call itself (response had `Alter-Error`)
    │   ├── AuthenticationError       invalid_token (401)
    │   ├── PolicyDeniedError         access_denied (403)
    │   ├── ScopeInsufficientError    insufficient_scope (403)
    │   ├── NeedsReauthError          needs_reauth (403)
    │   ├── InvalidTargetError        invalid_target (400)
    │   ├── NotFoundError             not_found (404)
    │   └── UpstreamUnavailableError  upstream_unreachable (502), upstream_timeout (504), temporarily_unavailable (503)
    │   └── TokenExchangeError        agent-key mode: Alter's token endpoint refused (or discovery failed)
    ├── UpstreamError                 the provider's API answered >= 400 (passed through by Alter)
    ├── ConnectError                  Connect failed or timed out
    ├── AlterConnectionError          Alter could not be reached (wraps the OSError)
    │   └── AlterTimeoutError         no answer within the timeout
    └── AlterConfigurationError       bad arguments (also a ValueError), raised before any network call
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .response import Headers, Response

__all__ = [
    "AlterSdkError",
    "AlterError",
    "AuthenticationError",
    "PolicyDeniedError",
    "ScopeInsufficientError",
    "NeedsReauthError",
    "InvalidTargetError",
    "NotFoundError",
    "UpstreamUnavailableError",
    "UpstreamError",
    "TokenExchangeError",
    "ConnectError",
    "AlterConnectionError",
    "AlterTimeoutError",
    "AlterConfigurationError",
    "error_from_alter_response",
]


class AlterSdkError(Exception):
    """Base class of every exception the SDK raises on purpose."""


class AlterConfigurationError(AlterSdkError, ValueError):
    """An argument is missing or invalid (construction, URL template, headers, body…)."""


class AlterError(AlterSdkError):
    """An error produced by Alter itself: the response carried an `Alter-Error` header.

    Attributes: `status` (HTTP status), `code` (the `error` member), `description`
    (`error_description`), `body` (the parsed JSON body, or None), `request_id` (the
    `X-Request-Id` header, else `Alter-Request-Id`), `headers`.
    """

    def __init__(
        self,
        status: int,
        code: str,
        description: str | None = None,
        *,
        body: Any = None,
        request_id: str | None = None,
        headers: Headers | Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.description = description
        self.body = body
        self.request_id = request_id
        self.headers = headers
        message = f"{code}: {description}" if description else code
        message += f" (HTTP {status}"
        message += f", request {request_id})" if request_id else ")"
        super().__init__(message)

    @property
    def error(self) -> str:
        """Alias of `code` (the OAuth-style `error` member)."""
        return self.code


class AuthenticationError(AlterError):
    """`invalid_token` (401): a missing, bad, expired or revoked token or app key."""


class PolicyDeniedError(AlterError):
    """`access_denied` (403): the policy denies, or the declared actor is unknown or disabled."""


class ScopeInsufficientError(AlterError):
    """`insufficient_scope` (403): the permissions held do not allow this method and path.

    `required_scopes` lists permissions any one of which would allow it (from the body's `scope`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = self.body.get("scope") if isinstance(self.body, Mapping) else None
        self.required_scopes: list[str] = scope.split() if isinstance(scope, str) else []


class NeedsReauthError(AlterError):
    """`needs_reauth` (403): the end user must reconnect; `connection_id` says which connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        value = self.body.get("connection_id") if isinstance(self.body, Mapping) else None
        self.connection_id: str | None = value if isinstance(value, str) else None


class InvalidTargetError(AlterError):
    """`invalid_target` (400): the host is not an API host of the grant, or the path is outside it."""


class NotFoundError(AlterError):
    """`not_found` (404): no such connection or secret for this app (or it was revoked)."""


class UpstreamUnavailableError(AlterError):
    """`upstream_unreachable` (502), `upstream_timeout` (504) or `temporarily_unavailable` (503).

    `retry_after` is the `Retry-After` header in seconds when Alter sent one.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after: float | None = None
        raw = self.headers.get("retry-after") if self.headers is not None else None
        if raw:
            try:
                self.retry_after = float(raw)
            except ValueError:
                self.retry_after = None


class UpstreamError(AlterSdkError):
    """The provider's API answered with an error status (>= 400); Alter passed it through.

    `status`, `headers`, `response` (the SDK `Response`, body already read: `.content`,
    `.text`, `.json()`) and `request_id` (Alter's id of the call, if it sent one).
    """

    def __init__(self, response: Response) -> None:
        self.response = response
        self.status = response.status_code
        self.headers = response.headers
        self.request_id: str | None = response.headers.get("alter-request-id") or response.headers.get("x-request-id")
        snippet = ""
        try:
            text = response.text.strip()
            if text:
                snippet = ": " + (text if len(text) <= 200 else text[:200] + "…")
        except Exception:  # pragma: no cover - text is always available once read
            pass
        super().__init__(f"the upstream API answered HTTP {self.status}{snippet}")

    @property
    def status_code(self) -> int:
        return self.status


class TokenExchangeError(AlterError):
    """Agent-key mode: getting an Alter access token failed (the token endpoint refused, e.g.
    `invalid_grant`, `access_denied`, `invalid_client`, or the issuer could not be discovered:
    `discovery_failed`). `code`, `description`, `status`, `body`."""

    def __init__(self, code: str, description: str | None = None, *, status: int | None = None, body: Any = None,
                 headers: Headers | Mapping[str, str] | None = None) -> None:
        super().__init__(status or 0, code, description, body=body, headers=headers)
        message = f"token exchange failed: {code}"
        if description:
            message += f": {description}"
        if status is not None:
            message += f" (HTTP {status})"
        self.args = (message,)


class ConnectError(AlterSdkError):
    """Connect did not complete: the session `failed` (with the provider's error) or `timeout`."""

    def __init__(self, code: str, description: str | None = None, *, session: Mapping[str, Any] | None = None) -> None:
        self.code = code
        self.description = description
        self.session = session
        super().__init__(f"Connect failed: {code}: {description}" if description else f"Connect failed: {code}")

    @property
    def error(self) -> str:
        return self.code


class AlterConnectionError(AlterSdkError):
    """Alter could not be reached (connection refused, DNS, TLS, reset…). The OSError is `__cause__`."""


class AlterTimeoutError(AlterConnectionError):
    """Alter did not answer within the timeout."""


_BY_CODE: dict[str, type[AlterError]] = {
    "invalid_token": AuthenticationError,
    "access_denied": PolicyDeniedError,
    "insufficient_scope": ScopeInsufficientError,
    "needs_reauth": NeedsReauthError,
    "invalid_target": InvalidTargetError,
    "not_found": NotFoundError,
    "upstream_unreachable": UpstreamUnavailableError,
    "upstream_timeout": UpstreamUnavailableError,
    "temporarily_unavailable": UpstreamUnavailableError,
}


def _parse_json(content: bytes) -> Any:
    try:
        return json.loads(content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


def error_from_alter_response(status: int, headers: Headers | Mapping[str, str], content: bytes) -> AlterError:
    """The typed error for a response Alter produced itself (or any JSON `{error, error_description}`)."""
    body = _parse_json(content)
    code = None
    description = None
    if isinstance(body, Mapping):
        code = body.get("error") if isinstance(body.get("error"), str) else None
        description = body.get("error_description") if isinstance(body.get("error_description"), str) else None
    if not code:
        code = headers.get("alter-error") or f"http_{status}"
    if description is None and body is None and content:
        text = content.decode("utf-8", "replace").strip()
        description = text[:200] or None
    cls = _BY_CODE.get(code, AlterError)
    return cls(status, code, description, body=body, request_id=headers.get("x-request-id") or headers.get("alter-request-id"), headers=headers)
