"""App-key mode against an in-process fake Alter: headers, error mapping, streaming, timeouts."""

import asyncio
import hashlib
import io
import os
import socket
import tempfile
import tracemalloc
import unittest

import support

from alter_sdk import (
    ActorType,
    AlterConnectionError,
    AlterError,
    AlterTimeoutError,
    AlterVault,
    AuthenticationError,
    HttpMethod,
    InvalidTargetError,
    NeedsReauthError,
    NotFoundError,
    PolicyDeniedError,
    ScopeInsufficientError,
    UpstreamError,
    UpstreamUnavailableError,
)

MiB = 1024 * 1024


def pattern(i: int, size: int = MiB) -> bytes:
    return bytes([i % 251]) * size


class FakeServerCase(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.fake = support.FakeAlter().__enter__()
        self.vault = AlterVault(api_key="alter_key_test", actor_type=ActorType.AI_AGENT, actor_identifier="calendar-agent",
                                base_url=self.fake.base_url)

    async def asyncTearDown(self):
        await self.vault.aclose()
        self.fake.__exit__(None, None, None)


class RequestTest(FakeServerCase):
    async def test_seed_request_wire_format(self):
        response = await self.vault.request(
            "con_123", HttpMethod.GET, "https://www.googleapis.com/calendar/v3/calendars/{calendar_id}/events",
            path_params={"calendar_id": "primary"}, query_params={"maxResults": 10, "singleEvents": True},
            headers={"X-Custom": "yes"}, run_id="run-42", thread_id="thread-7", tool_call_id="call-1", task="list events",
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.url, "https://www.googleapis.com/calendar/v3/calendars/primary/events?maxResults=10&singleEvents=true")
        self.assertTrue(response.proxy_url.startswith(self.fake.base_url + "/v1/proxy/con_123/"))
        self.assertEqual(response.headers["Content-Type"], "application/json")
        self.assertEqual(response.headers.get("content-type"), "application/json")
        echo = response.json()
        self.assertEqual(echo["method"], "GET")
        self.assertEqual(echo["raw_path"], "/v1/proxy/con_123/www.googleapis.com/calendar/v3/calendars/primary/events?maxResults=10&singleEvents=true")
        headers = echo["headers"]
        self.assertEqual(headers["authorization"], "Bearer alter_key_test")
        self.assertEqual(headers["alter-actor-type"], "ai_agent")
        self.assertEqual(headers["alter-actor-id"], "calendar-agent")
        self.assertEqual(headers["alter-run-id"], "run-42")
        self.assertEqual(headers["alter-thread-id"], "thread-7")
        self.assertEqual(headers["alter-tool-call-id"], "call-1")
        self.assertEqual(headers["alter-task"], "list events")
        self.assertEqual(headers["x-custom"], "yes")
        self.assertNotIn("accept-encoding", headers)

    async def test_no_run_headers_when_not_given(self):
        headers = (await self.vault.request("con_1", "get", "https://h/x")).json()["headers"]
        for name in ("alter-run-id", "alter-thread-id", "alter-tool-call-id", "alter-task"):
            self.assertNotIn(name, headers)

    async def test_json_and_text_bodies(self):
        echo = (await self.vault.request("con_1", HttpMethod.POST, "https://h/events", json={"summary": "Lunch", "n": [1, 2]})).json()
        self.assertEqual(echo["headers"]["content-type"], "application/json")
        self.assertEqual(echo["text"], '{"summary":"Lunch","n":[1,2]}')
        echo = (await self.vault.request("con_1", "POST", "https://h/x", body="héllo", headers={"Content-Type": "text/x-custom"})).json()
        self.assertEqual((echo["text"], echo["headers"]["content-type"]), ("héllo", "text/x-custom"))
        self.assertEqual(echo["headers"]["content-length"], str(len("héllo".encode())))
        echo = (await self.vault.request("con_1", "PATCH", "https://h/x", body=b"\x00\x01\xff")).json()
        self.assertEqual(echo["body"]["length"], 3)
        self.assertNotIn("content-type", echo["headers"])
        echo = (await self.vault.request("con_1", "POST", "https://h/x")).json()
        self.assertEqual(echo["headers"]["content-length"], "0")

    async def test_head_and_empty_bodies(self):
        response = await self.vault.request("con_1", HttpMethod.HEAD, "https://h/x")
        self.assertEqual((response.status_code, response.content), (200, b""))
        response = await self.vault.request("con_1", HttpMethod.HEAD, "https://h/x", stream=True)
        self.assertEqual(b"".join([c async for c in response.aiter_bytes()]), b"")
        # the connection is still usable afterwards
        self.assertEqual((await self.vault.request("con_1", "DELETE", "https://h/x")).json()["method"], "DELETE")

    async def test_keep_alive_reuses_the_connection(self):
        for _ in range(5):
            await self.vault.request("con_1", "GET", "https://h/x")
        self.assertEqual(len(set(self.fake.client_ports)), 1)


class ErrorMappingTest(FakeServerCase):
    async def expect(self, code, cls, status):
        with self.assertRaises(cls) as ctx:
            await self.vault.request("con_abc", "GET", f"https://h/alter-error/{code}")
        err = ctx.exception
        self.assertIsInstance(err, AlterError)
        self.assertEqual((err.status, err.code, err.description), (status, code, f"described {code}"))
        self.assertEqual(err.request_id, "req-123")
        self.assertEqual(err.body["error"], code)
        return err

    async def test_typed_errors(self):
        await self.expect("invalid_token", AuthenticationError, 401)
        await self.expect("access_denied", PolicyDeniedError, 403)
        err = await self.expect("insufficient_scope", ScopeInsufficientError, 403)
        self.assertEqual(err.required_scopes, ["calendar:write", "calendar:admin"])
        err = await self.expect("needs_reauth", NeedsReauthError, 403)
        self.assertEqual(err.connection_id, "con_abc")
        await self.expect("invalid_target", InvalidTargetError, 400)
        await self.expect("not_found", NotFoundError, 404)
        await self.expect("upstream_unreachable", UpstreamUnavailableError, 502)
        await self.expect("upstream_timeout", UpstreamUnavailableError, 504)
        err = await self.expect("temporarily_unavailable", UpstreamUnavailableError, 503)
        self.assertEqual(err.retry_after, 7.0)

    async def test_other_codes_are_plain_alter_errors(self):
        for code in ("invalid_request", "something_new"):
            err = await self.expect(code, AlterError, support.ERRORS[code])
            self.assertIs(type(err), AlterError)

    async def test_non_json_alter_error(self):
        with self.assertRaises(UpstreamUnavailableError) as ctx:
            await self.vault.request("con_1", "GET", "https://h/alter-error-text")
        self.assertEqual((ctx.exception.status, ctx.exception.code), (502, "upstream_unreachable"))
        self.assertIsNone(ctx.exception.body)

    async def test_upstream_error(self):
        for stream in (False, True):
            with self.assertRaises(UpstreamError) as ctx:
                await self.vault.request("con_1", "GET", "https://h/upstream/404", stream=stream)
            err = ctx.exception
            self.assertNotIsInstance(err, AlterError)
            self.assertEqual(err.status, 404)
            self.assertEqual(err.headers["x-upstream"], "yes")
            self.assertEqual(err.response.status_code, 404)
            self.assertEqual(err.response.json(), {"upstream": True, "message": "nope"})
            self.assertIn("nope", str(err))

    async def test_upstream_401_is_not_an_alter_error(self):
        with self.assertRaises(UpstreamError) as ctx:
            await self.vault.request("con_1", "GET", "https://h/upstream/401")
        self.assertEqual(ctx.exception.status, 401)


class NetworkTest(FakeServerCase):
    async def test_connection_refused(self):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        vault = AlterVault(api_key="alter_key_test", actor_type="ai_agent", actor_identifier="bot", base_url=f"http://127.0.0.1:{port}")
        with self.assertRaises(AlterConnectionError) as ctx:
            await vault.request("con_1", "GET", "https://h/x")
        self.assertIsInstance(ctx.exception.__cause__, OSError)
        await vault.aclose()

    async def test_timeout(self):
        with self.assertRaises(AlterTimeoutError):
            await self.vault.request("con_1", "GET", "https://h/slow", query_params={"seconds": 1.5}, timeout=0.3)
        # the vault still works afterwards
        self.assertEqual((await self.vault.request("con_1", "GET", "https://h/x", timeout=5)).status_code, 200)

    async def test_cancellation(self):
        task = asyncio.ensure_future(self.vault.request("con_1", "GET", "https://h/slow", query_params={"seconds": 1.5}))
        await asyncio.sleep(0.2)
        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task


class StreamingTest(FakeServerCase):
    async def test_generator_upload_is_chunked_and_complete(self):
        expected = hashlib.sha256()
        for i in range(12):
            expected.update(pattern(i))

        def chunks():
            for i in range(12):
                yield pattern(i)

        tracemalloc.start()
        try:
            echo = (await self.vault.request("sec_1", HttpMethod.PUT, "https://h/upload", body=chunks())).json()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertEqual(echo["headers"].get("transfer-encoding"), "chunked")
        self.assertEqual(echo["body"], {"length": 12 * MiB, "sha256": expected.hexdigest()})
        self.assertLess(peak, 8 * MiB, "the upload was buffered")

    async def test_async_generator_upload(self):
        async def chunks():
            for i in range(4):
                await asyncio.sleep(0)
                yield pattern(i, 100_000)
            yield "tail"

        echo = (await self.vault.request("sec_1", "POST", "https://h/upload", body=chunks())).json()
        data = b"".join(pattern(i, 100_000) for i in range(4)) + b"tail"
        self.assertEqual(echo["body"], {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()})

    async def test_file_uploads(self):
        data = os.urandom(300_000)
        with tempfile.TemporaryFile() as handle:
            handle.write(data)
            handle.seek(0)
            echo = (await self.vault.request("sec_1", "PUT", "https://h/upload", body=handle)).json()
        self.assertEqual(echo["headers"].get("content-length"), str(len(data)))  # a regular file: its size is known
        self.assertEqual(echo["body"]["sha256"], hashlib.sha256(data).hexdigest())
        echo = (await self.vault.request("sec_1", "PUT", "https://h/upload", body=io.BytesIO(data))).json()
        self.assertEqual(echo["headers"].get("transfer-encoding"), "chunked")
        self.assertEqual(echo["body"]["sha256"], hashlib.sha256(data).hexdigest())

    async def test_declared_content_length_with_a_stream(self):
        echo = (await self.vault.request("sec_1", "PUT", "https://h/upload", body=iter([b"abc", b"def"]), headers={"Content-Length": "6"})).json()
        self.assertEqual(echo["headers"].get("content-length"), "6")
        self.assertNotIn("transfer-encoding", echo["headers"])
        self.assertEqual(echo["body"]["length"], 6)

    async def test_early_refusal_of_a_streamed_upload(self):
        # Alter refuses before reading the body and closes: the refusal is reported, not a reset
        def chunks():
            for i in range(64):
                yield pattern(i)

        with self.assertRaises(ScopeInsufficientError) as ctx:
            await self.vault.request("sec_1", HttpMethod.PUT, "https://h/refuse-early", body=chunks())
        self.assertEqual(ctx.exception.required_scopes, ["secret:write"])
        self.assertEqual((await self.vault.request("sec_1", "GET", "https://h/x")).status_code, 200)

    async def test_failing_generator(self):
        def chunks():
            yield b"abc"
            raise RuntimeError("source broke")

        with self.assertRaises(RuntimeError):
            await self.vault.request("sec_1", "PUT", "https://h/upload", body=chunks())

    async def test_streamed_download(self):
        size = 20 * MiB
        tracemalloc.start()
        try:
            response = await self.vault.request("sec_1", "GET", "https://h/download", query_params={"bytes": size}, stream=True)
            with self.assertRaises(RuntimeError):
                response.content  # noqa: B018 - not read yet
            total = 0
            digest = hashlib.sha256()
            async for chunk in response.aiter_bytes(256 * 1024):
                self.assertLessEqual(len(chunk), 256 * 1024)
                total += len(chunk)
                digest.update(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertEqual(total, size)
        self.assertLess(peak, 8 * MiB, "the download was buffered")
        self.assertTrue(response.is_closed)

    async def test_cut_download(self):
        response = await self.vault.request("sec_1", "GET", "https://h/download-cut", stream=True)
        received = 0
        with self.assertRaises(AlterConnectionError):
            async for piece in response.aiter_bytes():
                received += len(piece)
        self.assertLessEqual(received, 100_000)
        with self.assertRaises(AlterConnectionError):
            await self.vault.request("sec_1", "GET", "https://h/download-cut")

    async def test_stream_aread_and_aclose(self):
        response = await self.vault.request("sec_1", "GET", "https://h/download", query_params={"bytes": 1000}, stream=True)
        self.assertEqual(len(await response.aread()), 1000)
        self.assertEqual(len(response.content), 1000)
        async with await self.vault.request("sec_1", "GET", "https://h/download", query_params={"bytes": 5 * MiB}, stream=True) as response:
            first = await response.aiter_bytes(10).__anext__()
            self.assertEqual(len(first), 10)
        self.assertTrue(response.is_closed)
        # non-streamed responses can be iterated too
        response = await self.vault.request("sec_1", "GET", "https://h/download", query_params={"bytes": 100})
        self.assertEqual([len(c) async for c in response.aiter_bytes(40)], [40, 40, 20])


if __name__ == "__main__":
    unittest.main()
