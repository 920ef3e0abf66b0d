// MG_HTTP_ALLOW_BARE_LF, the strict HTTP parser's one leniency (issue 11):
// the core is bundled with it on, as a board's config.json would fold it,
// and that bundle takes heads, chunk-size lines, chunk data ends and trailers
// ended by a bare LF, which the default build refuses. Node only (it bundles
// with rollup and imports the result).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { mg_mock, mg_mock_bytes } from "../hal/mock.js";
import { mg_http_message, mg_http_parse } from "../src/http.js";

const { bundle_api } = await import(new URL("../../rollup.config.js", import.meta.url).href);
const file = new URL("./lenient_bundle.mjs", import.meta.url);
writeFileSync(file, await bundle_api({ MG_HTTP_ALLOW_BARE_LF: true }));
const M = await import(file.href);

const HEAD = "GET /a HTTP/1.1\nHost: h\r\nX: y\n\n";
const CHUNKED = "POST /u HTTP/1.1\nTransfer-Encoding: chunked\n\n3;x=1\nabc\n2\r\nde\n0\nX-T: 1\n\n";

test("the default build refuses a bare LF", () => {
  const b = mg_mock_bytes(HEAD);
  assert.is(mg_http_parse(b, b.length, new mg_http_message()), -1);
});

test("MG_HTTP_ALLOW_BARE_LF: heads whose lines end with a bare LF parse", () => {
  const b = mg_mock_bytes(HEAD);
  const hm = new M.mg_http_message();
  assert.is(M.mg_http_parse(b, b.length, hm), b.length);
  assert.is(String(hm.uri), "/a");
  assert.is(String(M.mg_http_get_header(hm, "X")), "y");
  // the rest of the grammar stays strict
  const bad = mg_mock_bytes("GET /a\tb HTTP/1.1\n\n");
  assert.is(M.mg_http_parse(bad, bad.length, hm), -1);
});

test("MG_HTTP_ALLOW_BARE_LF: a chunked body framed with bare LFs, whole or a byte at a time", () => {
  for (const step of [1 << 20, 1]) {
    const net = new mg_mock();
    const mgr = new M.mg_mgr();
    M.mg_mgr_init(mgr, net);
    const got: string[] = [];
    M.mg_http_listen(mgr, "http://0.0.0.0:80", (c: any, ev: number, hm: any) => {
      if (ev === M.MG_EV_HTTP_MSG) {
        got.push(String(hm.body));
        M.mg_http_reply(c, 200, "", "ok");
      }
    }, null);
    const p = net.client(80)!;
    const b = mg_mock_bytes(CHUNKED + "\nGET /next HTTP/1.1\n\n");
    for (let at = 0; at < b.length; at += step) {
      p.send(b, Math.min(step, b.length - at), at);
      net.now++;
      M.mg_mgr_poll(mgr, 0);
    }
    for (let i = 0; i < 10; i++) {
      net.now++;
      M.mg_mgr_poll(mgr, 0);
    }
    assert.equal(got, ["abcde", ""], "step " + step);
    assert.match(p.recv_str(), /^HTTP\/1.1 200 OK\r\n[^]*HTTP\/1.1 200 OK\r\n/);
  }
});

test.run();
