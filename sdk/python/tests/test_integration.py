"""Integration tests against a running Alter prepared by the Node test suite.

They run only when ALTER_BASE_URL is set (see the module constants for every variable used);
otherwise they are skipped. The "provider API" is a stub that echoes each request as JSON and
exposes control endpoints at ALTER_STUB_URL (called directly, not through Alter).
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import os
import tracemalloc
import unittest
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import support  # noqa: F401  (import path)

from alter_sdk import (
    ActorType,
    AlterVault,
    ConnectResult,
    HttpMethod,
    InvalidTargetError,
    NotFoundError,
    PolicyDeniedError,
    ScopeInsufficientError,
)

ENV = os.environ
BASE_URL = ENV.get("ALTER_BASE_URL", "").rstrip("/")
API_KEY = ENV.get("ALTER_API_KEY", "")
ASSISTANT = ENV.get("ALTER_ASSISTANT", "")
READER = ENV.get("ALTER_READER", "")
ASSISTANT_KEY_FILE = ENV.get("ALTER_ASSISTANT_KEY_FILE", "")
READER_KEY_FILE = ENV.get("ALTER_READER_KEY_FILE", "")
CONNECTION_ID = ENV.get("ALTER_CONNECTION_ID", "")
API_BASE = ENV.get("ALTER_API_BASE", "").rstrip("/")
FOREIGN_URL = ENV.get("ALTER_FOREIGN_URL", "")
STUB_URL = ENV.get("ALTER_STUB_URL", "").rstrip("/")
CONNECT_PROVIDER = ENV.get("ALTER_CONNECT_PROVIDER", "acme")
SECRETS = {
    "bearer": ENV.get("ALTER_SECRET_BEARER", ""),
    "api_key_header": ENV.get("ALTER_SECRET_API_KEY_HEADER", ""),
    "api_key_query": ENV.get("ALTER_SECRET_API_KEY_QUERY", ""),
    "basic": ENV.get("ALTER_SECRET_BASIC", ""),
    "aws_sigv4": ENV.get("ALTER_SECRET_SIGV4", ""),
}

MiB = 1024 * 1024
BIG = 50 * MiB
MEMORY_LIMIT = 20 * 1000 * 1000
TIMEOUT = 120.0


# -- plain HTTP helpers (no SDK, no redirects) ---------------------------------------------------
def raw_request(method: str, url: str, *, cookies: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, dict[str, str], list[str], bytes]:
    """One HTTP request, redirects NOT followed: (status, headers lower-cased, Set-Cookie values, body)."""
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname, parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Accept": "text/html,application/json"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    try:
        conn.request(method, target, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.headers.get_all("Set-Cookie") or [], body
    finally:
        conn.close()


def stub_call(method: str, path: str) -> Any:
    status, _, _, body = raw_request(method, f"{STUB_URL}{path}")
    if status >= 300:
        raise AssertionError(f"stub {method} {path} answered HTTP {status}: {body[:300]!r}")
    return json.loads(body) if body else None


async def stub_count() -> int:
    return int((await asyncio.to_thread(stub_call, "GET", "/_stub/requests"))["count"])


def drive_headless_connect(link: str) -> None:
    """Plays the browser for a headless Connect link: picker page, authorize, upstream consent, callback."""
    token = parse_qs(urlsplit(link).query)["token"][0]
    status, _, _, body = raw_request("GET", link)
    assert status == 200, f"the headless link answered HTTP {status}: {body[:300]!r}"
    start = f"{BASE_URL}/connect/authorize?token={quote(token, safe='')}&provider={quote(CONNECT_PROVIDER)}&mode=headless"
    status, headers, _, body = raw_request("GET", start)
    assert status == 302 and "location" in headers, f"/connect/authorize answered HTTP {status}: {body[:300]!r}"
    url = urljoin(start, headers["location"])
    jars: dict[str, dict[str, str]] = {}
    for _ in range(10):  # the upstream's consent: redirects until it sends the browser back to Alter
        origin = urlsplit(url).netloc
        status, headers, set_cookies, body = raw_request("GET", url, cookies=jars.get(origin))
        for cookie in set_cookies:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            jars.setdefault(origin, {})[name.strip()] = value.strip()
        assert 300 <= status < 400 and "location" in headers, f"{url} answered HTTP {status}: {body[:300]!r}"
        url = urljoin(url, headers["location"])
        if url.startswith(f"{BASE_URL}/connect/callback"):
            break
    else:
        raise AssertionError("the upstream never redirected back to Alter's /connect/callback")
    status, _, _, body = raw_request("GET", url)
    assert status == 200, f"/connect/callback answered HTTP {status}: {body[:300]!r}"


def chunk(i: int) -> bytes:
    """1 MiB of deterministic bytes for chunk i."""
    return hashlib.sha256(f"chunk-{i}".encode()).digest() * (MiB // 32)


@unittest.skipUnless(BASE_URL, "ALTER_BASE_URL is not set: integration tests need a running Alter prepared by the Node test suite")
class AlterIntegrationTest(unittest.IsolatedAsyncioTestCase):
    def app_vault(self, actor: str) -> AlterVault:
        return AlterVault(api_key=API_KEY, actor_type=ActorType.AI_AGENT, actor_identifier=actor, base_url=BASE_URL, timeout=TIMEOUT)

    def agent_vault(self, key_file: str) -> AlterVault:
        return AlterVault(key_file=key_file, base_url=BASE_URL, timeout=TIMEOUT)

    def assert_oauth(self, echo: dict[str, Any]) -> None:
        self.assertEqual(echo["credential"]["kind"], "oauth", echo)
        self.assertTrue(echo["credential"]["valid"], echo)

    # 1
    async def test_app_key_mode_get_with_params_and_run_context(self):
        async with self.app_vault(ASSISTANT) as vault:
            response = await vault.request(
                CONNECTION_ID, HttpMethod.GET, API_BASE + "/calendars/{calendar_id}/events",
                path_params={"calendar_id": "primary"}, query_params={"maxResults": 10, "singleEvents": True},
                run_id="run-py-1", thread_id="thread-py-1",
            )
        self.assertEqual(response.status_code, 200)
        echo = response.json()
        self.assert_oauth(echo)
        self.assertEqual(echo["method"], "GET")
        self.assertEqual(echo["path"], urlsplit(API_BASE).path + "/calendars/primary/events")
        self.assertEqual(echo["query"], {"maxResults": "10", "singleEvents": "true"})
        headers = echo["headers"]
        self.assertNotEqual(headers.get("authorization"), f"Bearer {API_KEY}")
        for name, value in headers.items():
            self.assertFalse(name.startswith("alter-"), f"{name} reached the provider")
            self.assertNotIn(API_KEY, value, f"the app key reached the provider in {name}")

    # 2
    async def test_expired_upstream_token_is_refreshed(self):
        async with self.app_vault(ASSISTANT) as vault:
            first = (await vault.request(CONNECTION_ID, "GET", f"{API_BASE}/calendars/primary/events")).json()
            self.assert_oauth(first)
            await asyncio.to_thread(stub_call, "POST", "/_stub/revoke-tokens")
            second = await vault.request(CONNECTION_ID, "GET", f"{API_BASE}/calendars/primary/events")
        self.assertEqual(second.status_code, 200)
        self.assert_oauth(second.json())
        self.assertNotEqual(second.json()["credential"]["fingerprint"], first["credential"]["fingerprint"])

    # 3
    async def test_downgraded_write_is_refused_app_key_mode(self):
        before = await stub_count()
        async with self.app_vault(READER) as vault:
            with self.assertRaises(ScopeInsufficientError) as ctx:
                await vault.request(CONNECTION_ID, HttpMethod.POST, f"{API_BASE}/calendars/primary/events", json={"summary": "Lunch"})
        self.assertEqual(ctx.exception.status, 403)
        self.assertEqual(ctx.exception.code, "insufficient_scope")
        self.assertEqual(await stub_count(), before, "the refused request reached the provider")

    async def test_downgraded_write_is_refused_agent_key_mode(self):
        before = await stub_count()
        async with self.agent_vault(READER_KEY_FILE) as vault:
            with self.assertRaises(ScopeInsufficientError) as ctx:
                await vault.request(CONNECTION_ID, HttpMethod.POST, f"{API_BASE}/calendars/primary/events", json={"summary": "Lunch"})
        self.assertEqual(ctx.exception.status, 403)
        self.assertEqual(await stub_count(), before, "the refused request reached the provider")

    # 4
    async def test_foreign_host_is_refused(self):
        before = await stub_count()
        async with self.app_vault(ASSISTANT) as vault:
            with self.assertRaises(InvalidTargetError) as ctx:
                await vault.request(CONNECTION_ID, "GET", FOREIGN_URL)
        self.assertEqual(ctx.exception.status, 400)
        self.assertEqual(await stub_count(), before)

    async def test_unknown_actor_and_grant(self):
        async with self.app_vault("no-such-agent-py") as vault:
            with self.assertRaises(PolicyDeniedError):
                await vault.request(CONNECTION_ID, "GET", f"{API_BASE}/calendars/primary/events")
        async with self.app_vault(ASSISTANT) as vault:
            with self.assertRaises(NotFoundError):
                await vault.request("con_doesnotexist0000", "GET", f"{API_BASE}/calendars/primary/events")

    # 5
    async def test_each_managed_secret_type(self):
        async with self.app_vault(ASSISTANT) as vault:
            for kind, secret_id in SECRETS.items():
                with self.subTest(kind=kind):
                    echo = (await vault.request(secret_id, "GET", f"{API_BASE}/whoami")).json()
                    self.assertEqual(echo["credential"]["kind"], kind, echo)
                    self.assertTrue(echo["credential"]["valid"], echo)
            payload = {"name": "report", "values": [1, 2, 3]}
            echo = (await vault.request(SECRETS["aws_sigv4"], HttpMethod.POST, f"{API_BASE}/items", json=payload)).json()
        self.assertEqual(echo["credential"]["kind"], "aws_sigv4", echo)
        self.assertTrue(echo["credential"]["valid"], echo)
        sent = json.dumps(payload, separators=(",", ":")).encode()
        self.assertEqual(echo["body"], {"sha256": hashlib.sha256(sent).hexdigest(), "length": len(sent)})

    # 6
    async def test_50_mb_streaming_upload(self):
        expected = hashlib.sha256()
        produced = 0

        def chunks():
            nonlocal produced
            for i in range(50):
                data = chunk(i)
                expected.update(data)
                produced += len(data)
                yield data

        async with self.app_vault(ASSISTANT) as vault:
            tracemalloc.start()
            try:
                response = await vault.request(SECRETS["bearer"], HttpMethod.PUT, f"{API_BASE}/upload", body=chunks())
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        echo = response.json()
        self.assertEqual(produced, BIG)
        self.assertEqual(echo["body"]["length"], BIG)
        self.assertEqual(echo["body"]["sha256"], expected.hexdigest())
        self.assertLess(peak, MEMORY_LIMIT, f"peak memory {peak} bytes: the upload was buffered")

    async def test_50_mb_streaming_download(self):
        async with self.app_vault(ASSISTANT) as vault:
            tracemalloc.start()
            try:
                response = await vault.request(SECRETS["bearer"], "GET", f"{API_BASE}/download", query_params={"bytes": BIG}, stream=True)
                self.assertEqual(response.status_code, 200)
                total = 0
                async for piece in response.aiter_bytes(256 * 1024):
                    total += len(piece)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        self.assertEqual(total, BIG)
        self.assertLess(peak, MEMORY_LIMIT, f"peak memory {peak} bytes: the download was buffered")

    # 7
    async def test_agent_key_mode_with_cached_token(self):
        async with self.agent_vault(ASSISTANT_KEY_FILE) as vault:
            first = await vault.request(CONNECTION_ID, "GET", f"{API_BASE}/calendars/primary/events")
            second = await vault.request(CONNECTION_ID, "GET", f"{API_BASE}/calendars/primary/events", query_params={"page": 2})
            self.assertEqual(vault._exchange_count, 1, "the second call did not reuse the cached token")
        for response in (first, second):
            self.assertEqual(response.status_code, 200)
            self.assert_oauth(response.json())
            self.assertNotIn("alter-actor-id", response.json()["headers"])

    # 9
    async def test_headless_connect(self):
        async with self.app_vault(ASSISTANT) as vault:
            links: list[str] = []

            def on_url(url: str):
                links.append(url)
                return asyncio.to_thread(drive_headless_connect, url)

            result = await vault.connect("py-user", providers=[CONNECT_PROVIDER], on_url=on_url, timeout=60, poll_interval=0.25)
            self.assertIsInstance(result, ConnectResult)
            self.assertTrue(result.connection_id.startswith("con_"), result)
            self.assertEqual(result.provider, CONNECT_PROVIDER)
            self.assertEqual(len(links), 1)
            self.assertTrue(links[0].endswith("&mode=headless"), links[0])
            echo = (await vault.request(result.connection_id, "GET", f"{API_BASE}/calendars/primary/events")).json()
        self.assert_oauth(echo)


if __name__ == "__main__":
    unittest.main()
