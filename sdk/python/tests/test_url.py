"""URL templates, query encoding and the proxy URL (no server)."""

import unittest

import support  # noqa: F401  (import path)

from alter_sdk import AlterConfigurationError
from alter_sdk.url import append_query, encode_query, expand_url, proxy_url, target_url

BASE = "http://localhost:8080"


class ExpandUrlTest(unittest.TestCase):
    def test_placeholder_is_encoded_as_one_path_segment(self):
        url = expand_url("https://api.example.com/v1/{a}/items/{b}", {"a": "x/y z", "b": "ü?#&%"})
        self.assertEqual(url, "https://api.example.com/v1/x%2Fy%20z/items/%C3%BC%3F%23%26%25")

    def test_numbers_and_booleans(self):
        self.assertEqual(expand_url("https://h/{n}/{b}", {"n": 42, "b": True}), "https://h/42/true")

    def test_missing_placeholder_raises(self):
        with self.assertRaises(AlterConfigurationError) as ctx:
            expand_url("https://h/calendars/{calendar_id}/events/{event_id}", {"calendar_id": "primary"})
        self.assertIn("{event_id}", str(ctx.exception))
        with self.assertRaises(AlterConfigurationError):
            expand_url("https://h/{x}")
        with self.assertRaises(AlterConfigurationError):
            expand_url("https://h/{x}", {"x": None})

    def test_unused_path_param_raises(self):
        with self.assertRaises(AlterConfigurationError) as ctx:
            expand_url("https://h/{a}", {"a": "1", "b": "2"})
        self.assertIn("'b'", str(ctx.exception))

    def test_bad_braces_raise(self):
        for template in ("https://h/{a", "https://h/a}", "https://h/{}", "https://h/{a b}"):
            with self.assertRaises(AlterConfigurationError, msg=template):
                expand_url(template, {"a": "1"})

    def test_dot_segments_refused_as_values(self):
        for value in (".", ".."):
            with self.assertRaises(AlterConfigurationError):
                expand_url("https://h/a/{x}/b", {"x": value})
        self.assertEqual(expand_url("https://h/{x}", {"x": "..."}), "https://h/...")

    def test_no_placeholders(self):
        self.assertEqual(expand_url("https://h/a?b=c"), "https://h/a?b=c")


class QueryTest(unittest.TestCase):
    def test_encoding(self):
        query = encode_query({"maxResults": 10, "singleEvents": True, "off": False, "q": "a b&c=d/é", "skip": None})
        self.assertEqual(query, "maxResults=10&singleEvents=true&off=false&q=a%20b%26c%3Dd%2F%C3%A9")

    def test_lists_repeat_the_key(self):
        self.assertEqual(encode_query({"id": ["1", 2, None], "x": ("y",)}), "id=1&id=2&x=y")

    def test_pairs(self):
        self.assertEqual(encode_query([("a", "1"), ("a", "2"), ("b", 3.5)]), "a=1&a=2&b=3.5")

    def test_bad_values(self):
        with self.assertRaises(AlterConfigurationError):
            encode_query({"a": {"nested": 1}})
        with self.assertRaises(AlterConfigurationError):
            encode_query({"": "x"})

    def test_append_to_existing_query(self):
        self.assertEqual(append_query("https://h/p?a=1", "b=2"), "https://h/p?a=1&b=2")
        self.assertEqual(append_query("https://h/p", "b=2"), "https://h/p?b=2")
        self.assertEqual(append_query("https://h/p?", "b=2"), "https://h/p?b=2")
        self.assertEqual(append_query("https://h/p#frag", "b=2"), "https://h/p?b=2")
        self.assertEqual(append_query("https://h/p?a=1", ""), "https://h/p?a=1")

    def test_target_url(self):
        url = target_url("https://www.googleapis.com/calendar/v3/calendars/{calendar_id}/events?orderBy=startTime",
                         {"calendar_id": "primary"}, {"maxResults": 10, "singleEvents": True})
        self.assertEqual(url, "https://www.googleapis.com/calendar/v3/calendars/primary/events?orderBy=startTime&maxResults=10&singleEvents=true")


class ProxyUrlTest(unittest.TestCase):
    def test_seed_example(self):
        url = target_url("https://www.googleapis.com/calendar/v3/calendars/{calendar_id}/events",
                         {"calendar_id": "primary"}, {"maxResults": 10})
        self.assertEqual(proxy_url(BASE + "/", "con_123", url),
                         "http://localhost:8080/v1/proxy/con_123/www.googleapis.com/calendar/v3/calendars/primary/events?maxResults=10")

    def test_port_and_percent_encoding_are_kept(self):
        self.assertEqual(proxy_url(BASE, "sec_1", "http://127.0.0.1:9999/api/a%2Fb/c?x=%20y"),
                         f"{BASE}/v1/proxy/sec_1/127.0.0.1:9999/api/a%2Fb/c?x=%20y")

    def test_raw_characters_are_encoded(self):
        self.assertEqual(proxy_url(BASE, "con_1", "https://h/a b/ü?q=a b&r=100%"),
                         f"{BASE}/v1/proxy/con_1/h/a%20b/%C3%BC?q=a%20b&r=100%25")

    def test_empty_path_host_case_ipv6_fragment(self):
        self.assertEqual(proxy_url(BASE, "con_1", "https://API.Example.com"), f"{BASE}/v1/proxy/con_1/api.example.com/")
        self.assertEqual(proxy_url(BASE, "con_1", "http://[::1]:8443/x#frag"), f"{BASE}/v1/proxy/con_1/[::1]:8443/x")

    def test_dot_segments_are_resolved(self):
        self.assertEqual(proxy_url(BASE, "con_1", "https://h/api/v1/../v2/./items/"), f"{BASE}/v1/proxy/con_1/h/api/v2/items/")
        self.assertEqual(proxy_url(BASE, "con_1", "https://h/a/%2E%2E/b"), f"{BASE}/v1/proxy/con_1/h/a/%2E%2E/b")  # encoded: kept

    def test_base_url_with_path_prefix(self):
        self.assertEqual(proxy_url("https://gw.example.com/alter/", "con_1", "https://h/x"), "https://gw.example.com/alter/v1/proxy/con_1/h/x")

    def test_refusals(self):
        for bad in ("/relative/path", "ftp://h/x", "https://user:pw@h/x", "https:///x", "https://h:99999/x"):
            with self.assertRaises(AlterConfigurationError, msg=bad):
                proxy_url(BASE, "con_1", bad)
        for grant in ("", "con_1/../x", "con 1", None, "con_1?x", "github", "agt_1", "con_"):
            with self.assertRaises(AlterConfigurationError, msg=repr(grant)):
                proxy_url(BASE, grant, "https://h/x")  # type: ignore[arg-type]


if __name__ == "__main__":
    unittest.main()
