"""Agent-key mode against the fake Alter: discovery, token exchange, cache, retry on invalid_token."""

import asyncio
import unittest

import support

from alter_sdk import AlterError, AlterVault, AuthenticationError, TokenExchangeError
from alter_sdk.jwt import SigningKey
from alter_sdk.tokens import CachedToken, TokenManager


class AgentModeTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.fake = support.FakeAlter().__enter__()
        self.vault = AlterVault(client_id=support.TEST_CLIENT_ID, private_key=support.TEST_JWK, base_url=self.fake.base_url)

    async def asyncTearDown(self):
        await self.vault.aclose()
        self.fake.__exit__(None, None, None)

    def proxied(self):
        return [r for r in self.fake.requests if r["path"].startswith("/v1/proxy/")]

    async def test_exchange_request_and_proxy_headers(self):
        echo = (await self.vault.request("con_1", "GET", "https://h/x", run_id="run-1", thread_id="th-1", tool_call_id="tc-1", task="t")).json()
        self.assertEqual(len(self.fake.exchanges), 1)
        exchange = self.fake.exchanges[0]
        self.assertTrue(exchange["valid"], "the assertion signature did not verify")
        self.assertEqual(exchange["form"], {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": "con_1",
            "subject_token_type": "urn:alter:params:oauth:token-type:connection",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": exchange["form"]["client_assertion"],
            "run_id": "run-1",
            "thread_id": "th-1",
        })
        self.assertEqual(exchange["header"], {"alg": "EdDSA", "kid": "test-kid", "typ": "JWT"})
        claims = exchange["claims"]
        self.assertEqual((claims["iss"], claims["sub"], claims["aud"]), (support.TEST_CLIENT_ID, support.TEST_CLIENT_ID, support.ISSUER))
        self.assertEqual(claims["exp"] - claims["iat"], 60)
        headers = echo["headers"]
        self.assertEqual(headers["authorization"], "Bearer tok-1-con_1")
        self.assertNotIn("alter-actor-type", headers)
        self.assertNotIn("alter-actor-id", headers)
        self.assertEqual((headers["alter-tool-call-id"], headers["alter-task"]), ("tc-1", "t"))

    async def test_token_is_cached_per_grant_and_run(self):
        for _ in range(3):
            await self.vault.request("con_1", "GET", "https://h/x")
        self.assertEqual(self.vault._exchange_count, 1)
        discoveries = [r for r in self.fake.requests if r["path"] == "/.well-known/oauth-authorization-server"]
        self.assertEqual(len(discoveries), 1)
        await self.vault.request("con_1", "GET", "https://h/x", run_id="r2")
        await self.vault.request("con_1", "GET", "https://h/x", run_id="r2", tool_call_id="other")  # tool_call_id: not part of the key
        await self.vault.request("sec_2", "GET", "https://h/x")
        self.assertEqual(self.vault._exchange_count, 3)

    async def test_concurrent_callers_share_one_exchange(self):
        self.fake.exchange_delay = 0.2
        responses = await asyncio.gather(*[self.vault.request("con_1", "GET", "https://h/x") for _ in range(6)])
        self.assertEqual(self.vault._exchange_count, 1)
        self.assertEqual({r.json()["headers"]["authorization"] for r in responses}, {"Bearer tok-1-con_1"})

    async def test_short_lived_tokens_are_renewed(self):
        self.fake.token_lifetime = 20  # less than the 30 s margin: never reused
        await self.vault.request("con_1", "GET", "https://h/x")
        await self.vault.request("con_1", "GET", "https://h/x")
        self.assertEqual(self.vault._exchange_count, 2)

    async def test_invalid_token_is_renewed_and_retried_once(self):
        self.fake.rejected_tokens = {"tok-1-con_1"}
        echo = (await self.vault.request("con_1", "POST", "https://h/x", json={"a": 1})).json()
        self.assertEqual(echo["headers"]["authorization"], "Bearer tok-2-con_1")
        self.assertEqual(self.vault._exchange_count, 2)
        self.assertEqual(len(self.proxied()), 2)

    async def test_retry_happens_only_once(self):
        self.fake.rejected_tokens = {"tok-1-con_1", "tok-2-con_1"}
        with self.assertRaises(AuthenticationError):
            await self.vault.request("con_1", "GET", "https://h/x")
        self.assertEqual(self.vault._exchange_count, 2)

    async def test_streamed_body_is_not_retried(self):
        self.fake.rejected_tokens = {"tok-1-con_1"}
        with self.assertRaises(AuthenticationError):
            await self.vault.request("con_1", "PUT", "https://h/upload", body=iter([b"a", b"b"]))
        self.assertEqual(len(self.proxied()), 1)
        # the refused token was dropped: the next call gets a new one
        await self.vault.request("con_1", "GET", "https://h/x")
        self.assertEqual(self.vault._exchange_count, 2)

    async def test_exchange_refused(self):
        self.fake.exchange_error = (400, {"error": "invalid_grant", "error_description": "connection con_1 is revoked"})
        with self.assertRaises(TokenExchangeError) as ctx:
            await self.vault.request("con_1", "GET", "https://h/x")
        self.assertEqual((ctx.exception.code, ctx.exception.status, ctx.exception.description), ("invalid_grant", 400, "connection con_1 is revoked"))
        self.assertIsInstance(ctx.exception, AlterError)
        self.assertEqual(self.proxied(), [])
        # failures are not cached
        self.fake.exchange_error = None
        await self.vault.request("con_1", "GET", "https://h/x")

    async def test_invalid_client_hint(self):
        vault = AlterVault(private_key=dict(support.TEST_JWK, client_id="agt_x", issuer="http://elsewhere"), base_url=self.fake.base_url)
        self.fake.exchange_error = (401, {"error": "invalid_client", "error_description": "client authentication failed"})
        with self.assertRaises(TokenExchangeError) as ctx:
            await vault.request("con_1", "GET", "https://h/x")
        self.assertEqual(ctx.exception.code, "invalid_client")
        self.assertIn("http://elsewhere", ctx.exception.description)
        await vault.aclose()

    async def test_discovery_failure_has_no_fallback(self):
        self.fake.discovery_ok = False
        with self.assertRaises(TokenExchangeError) as ctx:
            await self.vault.request("con_1", "GET", "https://h/x")
        self.assertEqual(ctx.exception.code, "discovery_failed")
        self.assertEqual(self.fake.exchanges, [])


class TokenCacheTimingTest(unittest.IsolatedAsyncioTestCase):
    async def test_margin_is_max_of_30s_and_10_percent(self):
        now = [1000.0]
        calls = []

        async def call(method, url, headers, data, what):
            calls.append(url)
            if url.endswith("/.well-known/oauth-authorization-server"):
                return 200, {}, b'{"issuer": "http://iss"}'
            return 200, {}, b'{"access_token": "t%d", "token_type": "Bearer", "expires_in": 3600}' % len(calls)

        manager = TokenManager(base_url="http://alter", client_id="agt", key=SigningKey.from_jwk(support.TEST_JWK), call=call, clock=lambda: now[0])
        first = await manager.token("con_1")
        now[0] += 3600 - 361  # 361 s left: more than 10 % (360 s)
        self.assertEqual(await manager.token("con_1"), first)
        now[0] += 2  # 359 s left
        self.assertNotEqual(await manager.token("con_1"), first)
        self.assertEqual(manager.exchange_count, 2)

        entry = CachedToken("x", lifetime=100, expires_at=100)
        self.assertTrue(entry.fresh(70))  # 30 s left (10 % would be 10 s)
        self.assertFalse(entry.fresh(70.5))


if __name__ == "__main__":
    unittest.main()
