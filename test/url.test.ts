// URLs and mg_aton. Runs on Node and XS. Vectors from Mongoose's test_url and
// test_aton (mongoose-facts.md 1.14).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_url_host, mg_url_is_ssl, mg_url_pass, mg_url_port, mg_url_uri, mg_url_user, mg_aton } from "../src/url.js";
import { mg_addr } from "../src/net.js";
import { mg_str, mg_str_n, mg_utf8_encode } from "../src/str.js";

const host = (u: string) => mg_url_host(u).toString();
const user = (u: string) => mg_url_user(u).toString();
const pass = (u: string) => mg_url_pass(u).toString();
const uri = (u: string) => mg_url_uri(u).toString();

test("mg_url_host", () => {
  assert.is(host("foo"), "foo");
  assert.is(host("//foo"), "foo");
  assert.is(host("foo:1234"), "foo");
  assert.is(host("//foo:1234"), "foo");
  assert.is(host("p://foo"), "foo");
  assert.is(host("p://foo/"), "foo");
  assert.is(host("p://foo/x"), "foo");
  assert.is(host("p://bar:1234"), "bar");
  assert.is(host("p://bar:1234/"), "bar");
  assert.is(host("p://bar:1234/a"), "bar");
  assert.is(host("p://u@bar:1234/a"), "bar");
  assert.is(host("p://u:p@bar:1234/a"), "bar");
  assert.is(host("p://u:p@[::1]:1234/a"), "[::1]");
  assert.is(host("p://u:p@[1:2::3]:1234/a"), "[1:2::3]");
  assert.is(host("http://[::1]"), "[::1]");
  assert.is(host("p://foo/x:y/z"), "foo");
  assert.is(host("p://foo?a=b"), "foo?a=b", "only '/' ends the authority, as Mongoose");
  assert.is(host("tcp://0.0.0.0:80"), "0.0.0.0");
  assert.is(host(""), "");
  assert.is(host("foo/bar"), "foo", "mgts: a path without // still ends the host (Mongoose takes it all)");
});

test("mg_url_port: explicit wins, else the scheme's", () => {
  assert.is(mg_url_port("foo:1234"), 1234);
  assert.is(mg_url_port("ws://foo:1234"), 1234);
  assert.is(mg_url_port("http://foo"), 80);
  assert.is(mg_url_port("http://foo:1234"), 1234);
  assert.is(mg_url_port("https://foo"), 443);
  assert.is(mg_url_port("mqtt://foo"), 1883);
  assert.is(mg_url_port("mqtts://foo"), 8883);
  assert.is(mg_url_port("ws://foo"), 80);
  assert.is(mg_url_port("wss://foo"), 443);
  assert.is(mg_url_port("ws://u:p@foo/x"), 80);
  assert.is(mg_url_port("p://bar:1234/a"), 1234);
  assert.is(mg_url_port("p://[::1]:1234/a"), 1234);
  assert.is(mg_url_port("http://[::1]"), 80);
  assert.is(mg_url_port("http://[::1]/x:9"), 80);
  assert.is(mg_url_port("tcp://foo"), 0);
  assert.is(mg_url_port("foo"), 0);
  assert.is(mg_url_port("HTTP://foo"), 80);
  assert.is(mg_url_port("http://foo:"), 0);
  assert.is(mg_url_port("http://foo:99999"), 0, "out of range");
  assert.is(mg_url_port("http://u:pw@foo"), 80, "a password is not a port");
  assert.is(mg_url_port("//foo:81"), 81);
});

test("mg_url_user / mg_url_pass", () => {
  assert.is(user("p://foo"), "");
  assert.is(user("p://:@foo"), "");
  assert.is(user("p://u@foo"), "u");
  assert.is(user("p://u:@foo"), "u");
  assert.is(user("p://u:p@foo"), "u");
  assert.is(user("p://u:p@foo//a@b"), "u");
  assert.is(user("p://foo/x:y/z"), "");
  assert.is(user("p://foo/a@b"), "", "an '@' after the path is ignored");
  assert.is(pass("p://foo"), "");
  assert.is(pass("p://:@foo"), "");
  assert.is(pass("p://u@foo"), "");
  assert.is(pass("p://u:@foo"), "");
  assert.is(pass("p://u:p@foo"), "p");
  assert.is(pass("p://u:p@foo//a@b"), "p");
  assert.is(pass("p://foo/x:y/z"), "");
  assert.is(pass("p://u:p@ss@foo"), "p@ss", "the last '@' ends the credentials");
  assert.is(host("p://u:p@ss@foo"), "foo");
});

test("mg_url_uri: points into the URL, or '/'", () => {
  assert.is(uri("p://foo"), "/");
  assert.is(uri("p://foo/"), "/");
  assert.is(uri("p://foo:12/"), "/");
  assert.is(uri("p://foo:12/abc"), "/abc");
  assert.is(uri("p://foo:12/a/b/c"), "/a/b/c");
  assert.is(uri("p://[::1]:12/a/b/c"), "/a/b/c");
  assert.is(uri("p://[ab::1]:12/a/b/c"), "/a/b/c");
  assert.is(uri("http://u:p@h/x?q=1#f"), "/x?q=1#f");
  const s = mg_str("http://h/path");
  const v = mg_url_uri(s);
  assert.is(v.buf, s.buf, "a view, no copy");
  assert.is(v.ofs, 8);
});

test("mg_url_is_ssl", () => {
  for (const u of ["wss://a", "https://a", "mqtts://a", "ssl://a", "tls://a", "tcps://a", "HTTPS://a"]) assert.ok(mg_url_is_ssl(u), u);
  for (const u of ["ws://a", "http://a", "mqtt://a", "tcp://a", "udp://a", "a", "", "httpsx://a"]) assert.not.ok(mg_url_is_ssl(u), u);
});

test("mg_url_*: mg_str input with an offset, and an out parameter", () => {
  const b = mg_utf8_encode("xxhttp://u:p@host:81/a");
  const s = mg_str_n(b, 2, b.length - 2);
  const out = mg_str();
  assert.is(mg_url_host(s, out), out);
  assert.is(out.toString(), "host");
  assert.is(mg_url_port(s), 81);
  assert.is(mg_url_user(s, out).toString(), "u");
  assert.is(mg_url_pass(s, out).toString(), "p");
  assert.is(mg_url_uri(s, out).toString(), "/a");
  assert.is(mg_url_uri(mg_str_n(b, 2, 18), out).toString(), "/", "the view's end is the URL's end");
});

function aton(s: string): mg_addr | null {
  const a = new mg_addr();
  a.ip.fill(0xaa);
  a.port = 77;
  return mg_aton(mg_str(s), a) ? a : null;
}
function ipv(a: mg_addr | null): number[] {
  return a === null ? [] : Array.from(a.is_ip6 ? a.ip : a.ip.slice(0, 4));
}

test("mg_aton: IPv4", () => {
  let a = aton("127.0.0.1")!;
  assert.ok(a);
  assert.not.ok(a.is_ip6);
  assert.equal(ipv(a), [127, 0, 0, 1]);
  assert.is(a.port, 77, "the port is left alone");
  assert.equal(ipv(aton("255.255.255.255")), [255, 255, 255, 255]);
  assert.equal(ipv(aton("1.2.3.4")), [1, 2, 3, 4]);
  assert.equal(ipv(aton("")), [0, 0, 0, 0], "empty is 0.0.0.0");
  assert.equal(ipv(aton("localhost")), [127, 0, 0, 1]);
  assert.equal(ipv(aton("LocalHost")), [127, 0, 0, 1]);
  for (const bad of ["0", "0.0.0.", "0.0.0.256", "0.0.0.-1", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.4 ", "a.b.c.d", "1.2.3.0004", "example.com"]) {
    const x = new mg_addr();
    x.ip.fill(0xaa);
    assert.not.ok(mg_aton(bad, x), bad);
    assert.equal(Array.from(x.ip), new Array(16).fill(0), "ip zeroed on failure: " + bad);
  }
  a = aton("10.0.0.1")!;
  assert.equal(Array.from(a.ip.slice(4)), new Array(12).fill(0));
});

test("mg_aton: IPv6", () => {
  let a = aton("1:2:3:4:5:6:7:8")!;
  assert.ok(a.is_ip6);
  assert.equal(ipv(a), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
  assert.equal(ipv(aton("::1")), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(ipv(aton("[::1]")), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(ipv(aton("::")), new Array(16).fill(0));
  assert.ok(aton("::")!.is_ip6);
  assert.equal(ipv(aton("1::1")), [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(ipv(aton("1::")), [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(ipv(aton("2001:DB8::ff00:42:8329")), [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83, 0x29]);
  assert.equal(ipv(aton("1:2:3:4:5:6:7::")), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]);
  a = aton("::ffff:1.2.3.4")!;
  assert.ok(a.is_ip6, "an IPv4 tail stays IPv6, as Mongoose");
  assert.equal(ipv(a), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
  assert.equal(ipv(aton("::fFff:127.0.0.1")), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
  a = aton("fe80::1%2")!;
  assert.is(a.scope_id, 2);
  assert.equal(ipv(a), [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.is(aton("[fe80::1%12]")!.scope_id, 12);
  assert.is(aton("::1")!.scope_id, 0);
  for (const bad of [
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "::1:2:3:4:5:6:7:8",
    ":1",
    "1:",
    "1:::2",
    "1::2::3",
    "12345::",
    "g::1",
    "[::1",
    "::1]",
    "fe80::1%",
    "fe80::1%x",
    "::ffff:1.2.3",
    "::1.2.3.4:5",
  ]) {
    const x = new mg_addr();
    assert.not.ok(mg_aton(bad, x), bad);
    assert.not.ok(x.is_ip6, bad);
    assert.is(x.scope_id, 0, bad);
  }
});

test.run();
