"""Headless Connect against the fake Alter."""

import asyncio
import contextlib
import io
import unittest

import support

from alter_sdk import ActorType, AlterVault, AuthenticationError, ConnectError, ConnectResult


class ConnectTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.fake = support.FakeAlter().__enter__()
        self.vault = AlterVault(api_key="alter_key_test", actor_type=ActorType.AI_AGENT, actor_identifier="bot", base_url=self.fake.base_url)

    async def asyncTearDown(self):
        await self.vault.aclose()
        self.fake.__exit__(None, None, None)

    async def test_completed(self):
        urls = []
        result = await self.vault.connect("user-1", providers=["acme"], scopes="a b", poll_interval=0.02, on_url=urls.append)
        self.assertEqual(result, ConnectResult("con_new", "acme"))
        self.assertEqual(urls, [f"{self.fake.base_url}/connect?token=cst_secret&mode=headless"])
        self.assertEqual(self.fake.sessions_created, [{"end_user_id": "user-1", "providers": ["acme"], "scopes": ["a", "b"]}])
        self.assertEqual(self.fake.polls, 3)
        create = next(r for r in self.fake.requests if r["path"] == "/v1/connect/sessions")
        self.assertEqual(create["headers"]["authorization"], "Bearer alter_key_test")
        poll = next(r for r in self.fake.requests if r["path"] == "/v1/connect/session")
        self.assertEqual(poll["headers"]["authorization"], "Bearer cst_secret")

    async def test_async_on_url_runs_while_polling(self):
        self.fake.connect_after_polls = 3
        seen = []

        async def on_url(url):
            seen.append(url)
            while self.fake.polls < 2:  # polling goes on while on_url runs
                await asyncio.sleep(0.01)

        result = await self.vault.connect("user-1", poll_interval=0.02, on_url=on_url)
        self.assertEqual(result.connection_id, "con_new")
        self.assertEqual(len(seen), 1)
        self.assertEqual(self.fake.sessions_created, [{"end_user_id": "user-1"}])

    async def test_on_url_error_is_raised(self):
        self.fake.connect_after_polls = 10_000

        async def on_url(url):
            raise RuntimeError("could not deliver the link")

        with self.assertRaises(RuntimeError):
            await self.vault.connect("user-1", poll_interval=0.02, timeout=5, on_url=on_url)

    async def test_failed(self):
        self.fake.connect_outcome = {"status": "failed", "error": "access_denied", "error_description": "the user said no"}
        with self.assertRaises(ConnectError) as ctx:
            await self.vault.connect("user-1", poll_interval=0.02, on_url=lambda url: None)
        self.assertEqual((ctx.exception.code, ctx.exception.description), ("access_denied", "the user said no"))

    async def test_timeout(self):
        self.fake.connect_after_polls = 10_000
        with self.assertRaises(ConnectError) as ctx:
            await self.vault.connect("user-1", poll_interval=0.05, timeout=0.3, on_url=lambda url: None)
        self.assertEqual(ctx.exception.code, "timeout")

    async def test_link_printed_without_on_url(self):
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            await self.vault.connect("user-1", poll_interval=0.02)
        self.assertIn("cst_secret&mode=headless", stderr.getvalue())

    async def test_bad_app_key(self):
        vault = AlterVault(api_key="alter_key_wrong", actor_type=ActorType.AI_AGENT, actor_identifier="bot", base_url=self.fake.base_url)
        with self.assertRaises(AuthenticationError):
            await vault.connect("user-1", on_url=lambda url: None)
        await vault.aclose()


if __name__ == "__main__":
    unittest.main()
