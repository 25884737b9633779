"""Test helpers: import path and an in-process fake Alter server (http.server on 127.0.0.1:0)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from alter_sdk import ed25519  # noqa: E402
from alter_sdk.jwt import b64url_decode, b64url_encode  # noqa: E402

# A fixed Ed25519 test key (RFC 8032 TEST 1).
TEST_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
TEST_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
TEST_JWK = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": b64url_encode(TEST_PUBLIC),
    "d": b64url_encode(TEST_SEED),
    "kid": "test-kid",
    "alg": "EdDSA",
    "use": "sig",
}
TEST_CLIENT_ID = "agt_test"
ISSUER = "http://alter.test"

ERRORS = {
    "invalid_token": 401,
    "access_denied": 403,
    "insufficient_scope": 403,
    "needs_reauth": 403,
    "invalid_target": 400,
    "not_found": 404,
    "upstream_unreachable": 502,
    "upstream_timeout": 504,
    "temporarily_unavailable": 503,
    "invalid_request": 400,
    "something_new": 418,
}


class FakeAlter:
    """A fake Alter: proxy echo, Alter errors, upstream errors, streaming, token endpoint, Connect."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.exchanges: list[dict[str, Any]] = []
        self.client_ports: list[int] = []
        self.token_lifetime = 3600
        self.exchange_delay = 0.0
        self.exchange_error: tuple[int, dict[str, Any]] | None = None
        self.discovery_ok = True
        self.rejected_tokens: set[str] = set()
        self.polls = 0
        self.connect_after_polls = 2
        self.connect_outcome: dict[str, Any] = {"status": "completed", "connection_id": "con_new", "provider": "acme"}
        self.sessions_created: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                fake.handle(self)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                fake.server_errors.append(sys.exc_info()[1])  # broken uploads / closed downloads are expected in tests

        self.server_errors: list[BaseException | None] = []
        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeAlter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- helpers -----------------------------------------------------------------------------------
    @staticmethod
    def read_body(h: BaseHTTPRequestHandler) -> tuple[int, str, bytes | None]:
        """Reads the body streaming: (length, sha256 hex, the bytes if small)."""
        digest = hashlib.sha256()
        total = 0
        keep = bytearray()
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                line = h.rfile.readline()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                remaining = size
                while remaining:
                    chunk = h.rfile.read(min(remaining, 1 << 16))
                    digest.update(chunk)
                    total += len(chunk)
                    remaining -= len(chunk)
                    if len(keep) < 65536:
                        keep += chunk
                h.rfile.readline()
        else:
            remaining = int(h.headers.get("Content-Length") or 0)
            while remaining:
                chunk = h.rfile.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                digest.update(chunk)
                total += len(chunk)
                remaining -= len(chunk)
                if len(keep) < 65536:
                    keep += chunk
        return total, digest.hexdigest(), bytes(keep) if total <= 65536 else None

    @staticmethod
    def send_json(h: BaseHTTPRequestHandler, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)

    def alter_error(self, h: BaseHTTPRequestHandler, code: str, status: int | None = None, extra: dict[str, Any] | None = None) -> None:
        status = status or ERRORS.get(code, 400)
        headers = {"Alter-Error": code, "X-Request-Id": "req-123"}
        if code == "temporarily_unavailable":
            headers["Retry-After"] = "7"
        self.send_json(h, status, {"error": code, "error_description": f"described {code}", **(extra or {})}, headers)

    # -- routing -----------------------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.client_ports.append(h.client_address[1])
        parts = urlsplit(h.path)
        if "/refuse-early" in parts.path:  # answers before reading the body, then closes
            self.request_count_early = getattr(self, "request_count_early", 0) + 1
            h.close_connection = True
            self.alter_error(h, "insufficient_scope", extra={"scope": "secret:write"})
            return
        length, sha, data = self.read_body(h)
        record = {
            "method": h.command,
            "raw_path": h.path,
            "path": parts.path,
            "query": parts.query,
            "headers": {k.lower(): v for k, v in h.headers.items()},
            "length": length,
            "sha256": sha,
            "body": data,
        }
        with self.lock:
            self.requests.append(record)
        path = parts.path
        if path == "/.well-known/oauth-authorization-server":
            if not self.discovery_ok:
                h.send_response(404)
                h.send_header("Content-Length", "0")
                h.end_headers()
                return
            self.send_json(h, 200, {"issuer": ISSUER, "token_endpoint": f"{self.base_url}/v1/token"})
            return
        if path == "/v1/token":
            self.token(h, data or b"")
            return
        if path == "/v1/connect/sessions":
            self.connect_create(h, data or b"")
            return
        if path == "/v1/connect/session":
            self.connect_poll(h)
            return
        if path.startswith("/v1/proxy/"):
            self.proxy(h, record)
            return
        self.send_json(h, 404, {"error": "not_found"})

    def token(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if self.exchange_delay:
            time.sleep(self.exchange_delay)
        header_b64, claims_b64, sig_b64 = form["client_assertion"].split(".")
        header = json.loads(b64url_decode(header_b64))
        claims = json.loads(b64url_decode(claims_b64))
        valid = ed25519.verify(TEST_PUBLIC, f"{header_b64}.{claims_b64}".encode(), b64url_decode(sig_b64))
        with self.lock:
            self.exchanges.append({"form": form, "header": header, "claims": claims, "valid": valid})
            n = len(self.exchanges)
        if not valid:
            self.send_json(h, 401, {"error": "invalid_client", "error_description": "bad signature"})
            return
        if self.exchange_error:
            status, payload = self.exchange_error
            self.send_json(h, status, payload)
            return
        self.send_json(h, 200, {
            "access_token": f"tok-{n}-{form['subject_token']}",
            "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "scope": "calendar:read",
        })

    def connect_create(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        if h.headers.get("Authorization") != "Bearer alter_key_test":
            self.alter_error(h, "invalid_token")
            return
        payload = json.loads(body or b"{}")
        self.sessions_created.append(payload)
        self.send_json(h, 201, {
            "id": "csn_1", "status": "pending", "token": "cst_secret",
            "connect_url": f"{self.base_url}/connect?token=cst_secret", "expires_at": "2099-01-01T00:00:00Z",
        })

    def connect_poll(self, h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("Authorization") != "Bearer cst_secret":
            self.alter_error(h, "invalid_token")
            return
        with self.lock:
            self.polls += 1
            polls = self.polls
        if polls <= self.connect_after_polls:
            self.send_json(h, 200, {"id": "csn_1", "status": "pending"})
        else:
            self.send_json(h, 200, {"id": "csn_1", **self.connect_outcome})

    def proxy(self, h: BaseHTTPRequestHandler, record: dict[str, Any]) -> None:
        auth = h.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        if token in self.rejected_tokens:
            self.alter_error(h, "invalid_token")
            return
        rest = record["path"][len("/v1/proxy/"):]
        grant, _, target = rest.partition("/")
        _host, _, tail = target.partition("/")
        segments = tail.split("/")
        query = parse_qs(record["query"])
        if segments[0] == "alter-error":
            code = segments[1]
            extra: dict[str, Any] = {}
            if code == "insufficient_scope":
                extra["scope"] = "calendar:write calendar:admin"
            if code == "needs_reauth":
                extra["connection_id"] = grant
            self.alter_error(h, code, extra=extra)
            return
        if segments[0] == "alter-error-text":
            data = b"<html>bad gateway</html>"
            h.send_response(502)
            h.send_header("Alter-Error", "upstream_unreachable")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            return
        if segments[0] == "upstream":
            status = int(segments[1])
            self.send_json(h, status, {"upstream": True, "message": "nope"}, {"X-Upstream": "yes"})
            return
        if segments[0] == "slow":
            time.sleep(float(query.get("seconds", ["2"])[0]))
        if segments[0] == "download-cut":  # promises 1 MiB, sends 100 000 bytes, closes
            h.close_connection = True
            h.send_response(200)
            h.send_header("Content-Length", str(1 << 20))
            h.end_headers()
            h.wfile.write(b"c" * 100_000)
            return
        if segments[0] == "download":
            size = int(query.get("bytes", ["0"])[0])
            h.send_response(200)
            h.send_header("Content-Type", "application/octet-stream")
            h.send_header("Content-Length", str(size))
            h.end_headers()
            block = bytes(range(256)) * 256
            sent = 0
            while sent < size:
                piece = block[: min(len(block), size - sent)]
                h.wfile.write(piece)
                sent += len(piece)
            return
        self.send_json(h, 200, {
            "method": record["method"],
            "raw_path": record["raw_path"],
            "grant": grant,
            "headers": record["headers"],
            "body": {"length": record["length"], "sha256": record["sha256"]},
            "text": record["body"].decode("utf-8", "replace") if record["body"] is not None else None,
        })
