"""Construction and argument checks: clear errors, raised before any network call."""

import json
import os
import tempfile
import unittest

import support

from alter_sdk import ActorType, AlterConfigurationError, AlterVault, HttpMethod

APP = dict(api_key="alter_key_test", actor_type=ActorType.AI_AGENT, actor_identifier="bot")


class ConstructionTest(unittest.TestCase):
    def test_app_key_mode(self):
        vault = AlterVault(**APP, base_url="http://alter.test:8080/")
        self.assertEqual(vault.mode, "app_key")
        self.assertEqual(vault.base_url, "http://alter.test:8080")
        self.assertEqual(AlterVault(api_key="alter_key_x", actor_type="backend_service", actor_identifier="svc").actor_type, ActorType.BACKEND_SERVICE)
        self.assertNotIn("alter_key_test", repr(vault))

    def test_app_key_refusals(self):
        cases = [
            dict(api_key="sk_live_123", actor_type=ActorType.AI_AGENT, actor_identifier="bot"),
            dict(api_key="alter_key_", actor_type=ActorType.AI_AGENT, actor_identifier="bot"),
            dict(api_key="alter_key_x", actor_identifier="bot"),
            dict(api_key="alter_key_x", actor_type="robot", actor_identifier="bot"),
            dict(api_key="alter_key_x", actor_type=ActorType.AI_AGENT),
            dict(api_key="alter_key_x", actor_type=ActorType.AI_AGENT, actor_identifier=""),
            dict(api_key="alter_key_x", actor_type=ActorType.AI_AGENT, actor_identifier="bot", private_key=support.TEST_JWK),
            dict(),
            dict(client_id="agt_1"),
        ]
        for kwargs in cases:
            with self.subTest(kwargs=kwargs), self.assertRaises(AlterConfigurationError):
                AlterVault(**kwargs, base_url="http://alter.test")

    def test_agent_key_mode(self):
        vault = AlterVault(client_id="agt_1", private_key=support.TEST_JWK, base_url="http://alter.test")
        self.assertEqual((vault.mode, vault.client_id), ("agent_key", "agt_1"))
        # client_id from the key file's member; the key as JSON text
        vault = AlterVault(private_key=json.dumps(dict(support.TEST_JWK, client_id="agt_2")), base_url="http://alter.test")
        self.assertEqual(vault.client_id, "agt_2")
        with self.assertRaises(AlterConfigurationError):  # no client_id anywhere
            AlterVault(private_key=support.TEST_JWK, base_url="http://alter.test")
        with self.assertRaises(AlterConfigurationError):  # actor headers are app-key mode only
            AlterVault(private_key=dict(support.TEST_JWK, client_id="a"), actor_type=ActorType.AI_AGENT, base_url="http://alter.test")

    def test_key_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bot.jwk.json")
            with open(path, "w") as handle:
                json.dump(dict(support.TEST_JWK, client_id="agt_file", issuer="http://alter.test"), handle)
            vault = AlterVault(key_file=path, base_url="http://alter.test")
            self.assertEqual(vault.client_id, "agt_file")
            self.assertEqual(AlterVault(key_file=path, client_id="agt_other").client_id, "agt_other")
            with self.assertRaises(AlterConfigurationError):
                AlterVault(key_file=os.path.join(tmp, "missing.json"))
            with open(path, "w") as handle:
                handle.write("not json")
            with self.assertRaises(AlterConfigurationError):
                AlterVault(key_file=path)

    def test_base_url_checks(self):
        for bad in ("localhost:8080", "ftp://x", "http://x/?a=1"):
            with self.assertRaises(AlterConfigurationError, msg=bad):
                AlterVault(**APP, base_url=bad)


class RequestArgumentTest(unittest.IsolatedAsyncioTestCase):
    """Everything here must fail before a request reaches the (fake) server."""

    async def asyncSetUp(self):
        self.fake = support.FakeAlter().__enter__()
        self.vault = AlterVault(**APP, base_url=self.fake.base_url)

    async def asyncTearDown(self):
        await self.vault.aclose()
        self.fake.__exit__(None, None, None)

    async def refused(self, *args, match=None, **kwargs):
        with self.assertRaises(AlterConfigurationError) as ctx:
            await self.vault.request(*args, **kwargs)
        if match:
            self.assertIn(match, str(ctx.exception))
        self.assertEqual(self.fake.requests, [])

    async def test_authorization_header_refused(self):
        await self.refused("con_1", HttpMethod.GET, "https://h/x", headers={"authorization": "Bearer x"},
                           match="headers: Authorization is set by Alter")

    async def test_alter_headers_refused(self):
        for name in ("Alter-Actor-Id", "alter-run-id", "ALTER-ERROR"):
            await self.refused("con_1", "GET", "https://h/x", headers={name: "x"})

    async def test_bad_header_values(self):
        await self.refused("con_1", "GET", "https://h/x", headers={"X-A": "a\r\nInjected: 1"})
        await self.refused("con_1", "GET", "https://h/x", headers={"Bad Name": "x"})
        await self.refused("con_1", "GET", "https://h/x", headers={"X-A": "emoji 🙂"})
        await self.refused("con_1", "GET", "https://h/x", task="line\nbreak")

    async def test_placeholders_and_url(self):
        await self.refused("con_1", "GET", "https://h/{id}", match="{id}")
        await self.refused("con_1", "GET", "https://h/x", path_params={"id": "1"})
        await self.refused("con_1", "GET", "h/x")
        await self.refused("nope/x", "GET", "https://h/x")

    async def test_method_and_body(self):
        await self.refused("con_1", "TRACE", "https://h/x")
        await self.refused("con_1", "POST", "https://h/x", body=b"x", json={"a": 1})
        await self.refused("con_1", "POST", "https://h/x", body={"a": 1}, match="json=")
        await self.refused("con_1", "POST", "https://h/x", json={"a": float("nan")})
        await self.refused("con_1", "POST", "https://h/x", body=object())
        await self.refused("con_1", "GET", "https://h/x", timeout=0)

    async def test_connect_needs_app_key_mode(self):
        vault = AlterVault(client_id="agt_1", private_key=support.TEST_JWK, base_url=self.fake.base_url)
        with self.assertRaises(AlterConfigurationError):
            await vault.connect("user-1")
        await vault.aclose()

    async def test_closed_vault_refuses_calls(self):
        vault = AlterVault(**APP, base_url=self.fake.base_url)
        async with vault:
            self.assertEqual((await vault.request("con_1", "GET", "https://h/x")).status_code, 200)
        self.assertTrue(vault.closed)
        with self.assertRaises(RuntimeError):
            await vault.request("con_1", "GET", "https://h/x")
        with self.assertRaises(RuntimeError):
            await vault.connect("user-1")

    async def test_connection_headers_are_dropped(self):
        response = await self.vault.request("con_1", "GET", "https://h/x", headers={"Connection": "close", "Host": "evil", "X-Keep": "1"})
        headers = response.json()["headers"]
        self.assertEqual(headers["host"], self.fake.base_url.split("//")[1])
        self.assertEqual(headers["x-keep"], "1")
        self.assertNotIn("close", headers.get("connection", ""))


if __name__ == "__main__":
    unittest.main()
