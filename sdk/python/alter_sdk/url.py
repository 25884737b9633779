"""Target URL templates, query strings and the proxy URL (docs/proxy.md, Wire format)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Union
from urllib.parse import quote, urlsplit

from .errors import AlterConfigurationError

__all__ = ["expand_url", "encode_query", "append_query", "proxy_url", "normalize_base_url", "validate_grant_id", "QueryParams"]

QueryValue = Union[str, int, float, bool, None]
QueryParams = Union[Mapping[str, Union[QueryValue, Iterable[QueryValue]]], Iterable[tuple[str, QueryValue]]]

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_GRANT_ID = re.compile(r"^(?:con|sec)_[A-Za-z0-9_-]+$")
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Characters kept as they are (with the unreserved ones urllib always keeps): RFC 3986 pchar,
# plus "/" for paths and "/?" for queries, plus "%" so existing percent-encoding is not touched.
_PATH_SAFE = "/%:@!$&'()*+,;="
_QUERY_SAFE = _PATH_SAFE + "?"


def _scalar(name: str, value: Any, where: str) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    raise AlterConfigurationError(f"{where}: the value of {name!r} must be a string, number or boolean, not {type(value).__name__}")


def expand_url(template: str, path_params: Mapping[str, Any] | None = None) -> str:
    """Replaces each `{name}` with `path_params[name]`, percent-encoded as one path segment.

    A placeholder without a value, an unused parameter or a stray brace raises
    `AlterConfigurationError` (before any network call).
    """
    if not isinstance(template, str) or not template:
        raise AlterConfigurationError("url must be a non-empty string such as https://api.example.com/v1/items/{id}")
    params = dict(path_params or {})
    used: set[str] = set()
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if not _NAME.match(name):
            raise AlterConfigurationError(f"url: {{{name}}} is not a valid placeholder name (letters, digits, _ . -)")
        if name not in params or params[name] is None:
            missing.append(name)
            return match.group(0)
        used.add(name)
        value = _scalar(name, params[name], "path_params")
        if value in (".", ".."):
            raise AlterConfigurationError(f"path_params: {name!r} is {value!r}, which cannot be used as a path segment")
        return quote(value, safe="")

    expanded = _PLACEHOLDER.sub(replace, template)
    if missing:
        names = ", ".join(f"{{{n}}}" for n in dict.fromkeys(missing))
        raise AlterConfigurationError(f"url: no value for placeholder {names}: pass path_params={{{', '.join(repr(n) + ': …' for n in dict.fromkeys(missing))}}}")
    extra = [name for name in params if name not in used]
    if extra:
        raise AlterConfigurationError(f"path_params: {', '.join(map(repr, extra))} not used: the url has no {' '.join('{' + n + '}' for n in extra)} placeholder")
    if "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        raise AlterConfigurationError("url: unbalanced { or } (placeholders are written {name}; a literal brace must be percent-encoded)")
    return expanded


def encode_query(query_params: QueryParams | None) -> str:
    """`key=value&…`: lists and tuples give repeated keys, booleans are `true`/`false`, None is skipped."""
    if not query_params:
        return ""
    items = query_params.items() if isinstance(query_params, Mapping) else query_params
    parts: list[str] = []
    for entry in items:
        try:
            key, value = entry
        except (TypeError, ValueError):
            raise AlterConfigurationError("query_params must be a mapping or a list of (name, value) pairs") from None
        if not isinstance(key, str) or not key:
            raise AlterConfigurationError(f"query_params: parameter names must be non-empty strings, got {key!r}")
        values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        for v in values:
            if v is None:
                continue
            parts.append(f"{quote(key, safe='')}={quote(_scalar(key, v, 'query_params'), safe='')}")
    return "&".join(parts)


def append_query(url: str, query: str) -> str:
    """Appends an encoded query to a URL that may already have one (a fragment is dropped)."""
    url = url.split("#", 1)[0]
    if not query:
        return url
    if "?" not in url:
        return f"{url}?{query}"
    if url.endswith("?") or url.endswith("&"):
        return url + query
    return f"{url}&{query}"


def normalize_base_url(base_url: str) -> str:
    if not isinstance(base_url, str) or not base_url:
        raise AlterConfigurationError("base_url must be Alter's URL, e.g. http://localhost:8080")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AlterConfigurationError(f"base_url must be an http(s) URL such as http://localhost:8080, got {base_url!r}")
    if parts.query or parts.fragment:
        raise AlterConfigurationError(f"base_url must not have a query or fragment: {base_url!r}")
    return base_url.rstrip("/")


def validate_grant_id(grant_id: Any) -> str:
    if not isinstance(grant_id, str) or not _GRANT_ID.match(grant_id):
        raise AlterConfigurationError(f"grant_id must be a connection id (con_…) or a managed secret id (sec_…), got {grant_id!r}")
    return grant_id


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: resolves "." and ".." segments (Alter refuses paths that have them)."""
    segments = path.split("/")
    if not any(s in (".", "..") for s in segments):
        return path
    output: list[str] = []
    for segment in segments[1:]:
        if segment == ".":
            continue
        if segment == "..":
            if output:
                output.pop()
            continue
        output.append(segment)
    if segments[-1] in (".", ".."):
        output.append("")  # "/a/b/.." is "/a/"
    return "/" + "/".join(output)


def _clean(component: str, safe: str) -> str:
    """Percent-encodes what may not appear raw (spaces, non-ASCII…); keeps existing %XX as is."""
    return quote(_LONE_PERCENT.sub("%25", component), safe=safe)


def proxy_url(base_url: str, grant_id: str, target_url: str) -> str:
    """`{base_url}/v1/proxy/{grant_id}/{host[:port]}{path}[?query]` for an absolute target URL."""
    try:
        parts = urlsplit(target_url)
        port = parts.port  # validates the port
    except ValueError as err:
        raise AlterConfigurationError(f"url: {err}: {target_url!r}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise AlterConfigurationError(f"url must be absolute, https://host/path (http allowed), got {target_url!r}")
    if "@" in parts.netloc:
        raise AlterConfigurationError("url must not contain credentials (user:password@): Alter injects the credential")
    hostname = parts.hostname or ""
    if not hostname:
        raise AlterConfigurationError(f"url has no host: {target_url!r}")
    if ":" in hostname:  # IPv6 literal
        host = f"[{hostname}]"
    else:
        try:
            host = hostname.encode("idna").decode("ascii") if not hostname.isascii() else hostname
        except UnicodeError:
            raise AlterConfigurationError(f"url: {hostname!r} is not a valid host name") from None
    if port is not None:
        host = f"{host}:{port}"
    path = _clean(_remove_dot_segments(parts.path or "/"), _PATH_SAFE)
    query = _clean(parts.query, _QUERY_SAFE)
    result = f"{normalize_base_url(base_url)}/v1/proxy/{validate_grant_id(grant_id)}/{host.lower()}{path}"
    return f"{result}?{query}" if query else result


def target_url(url: str, path_params: Mapping[str, Any] | None = None, query_params: QueryParams | None = None) -> str:
    """The final target URL: placeholders replaced, query parameters appended."""
    return append_query(expand_url(url, path_params), encode_query(query_params))
