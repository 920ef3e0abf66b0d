// Formatting and utility calls the core and its users make on hot paths,
// bundled into one script for the XS worker by bench/fmt.bench.mjs. setup()
// makes everything; run(name, n) then makes n calls of one case, so the heap
// count around it shows what one call allocates. Output goes into a real
// connection's send buffer (mock network), emptied after each call.
import { mg_mock } from "../hal/mock.js";
import { MG_EV_ACCEPT, mg_connection, mg_listen, mg_mgr, mg_mgr_init, mg_printf, mg_send, mg_vprintf } from "../src/net.js";
import { MG_ESC, mg_print_esc, mg_snprintf, mg_va, mg_vxprintf, mg_xout } from "../src/fmt.js";
import { MG_DEBUG, MG_LL_INFO, mg_log_set } from "../src/log.js";
import { mg_match, mg_str, mg_str_n, mg_strcasecmp, mg_url_decode, mg_utf8_encode, mg_utf8_put } from "../src/str.js";
import { mg_iobuf_add, mg_iobuf_del } from "../src/iobuf.js";
import { mg_base64_encode, mg_sha1_ctx, mg_sha1_final, mg_sha1_init, mg_sha1_update } from "../src/util.js";
import { mg_json_get } from "../src/json.js";
import { mg_url_host } from "../src/url.js";

class Bench {
  c: mg_connection | null = null;
  status = mg_utf8_encode("HTTP/1.1 200 OK\r\n");
  ap = new mg_va([200, "OK"], 0);
  out = new mg_xout();
  buf = new Uint8Array(256);
  caps = [mg_str(), mg_str(), mg_str()];
  uri = mg_str("/api/devices/42");
  pattern = mg_str("/api/*/*");
  hdr = mg_str("content-length");
  hdr2 = mg_str("Content-Length");
  query = mg_str("name=J%C3%B6rg+M&x=1");
  json = mg_str('{"id":7,"method":"set","params":{"led":true,"level":[1,2,3]}}');
  url = mg_str("http://user:pw@example.com:8080/x");
  host = mg_str();
  toklen = [0];
  sha = new mg_sha1_ctx();
  key = mg_utf8_encode("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  digest = new Uint8Array(20);
  errors = 0;
}
const B = new Bench();

export function setup(): void {
  const net = new mg_mock(4, 4096);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  mg_listen(mgr, "tcp://0.0.0.0:80", (c: mg_connection, ev: number) => {
    if (ev === MG_EV_ACCEPT) B.c = c;
  }, null);
  net.client(80);
  net.poll(mgr, 2);
  if (B.c === null) B.errors++;
  mg_log_set(MG_LL_INFO);
  mg_sha1_init(B.sha);
}

function check(c: mg_connection, len: number): void {
  if (c.send.len !== len) B.errors++;
  c.send.len = 0;
}

/** n calls of one case. */
export function run(name: string, n: number): number {
  const c = B.c as mg_connection;
  const k = B.status.length;
  if (name === "send_bytes") {
    for (let i = 0; i < n; i++) {
      mg_send(c, B.status, k, 0);
      check(c, k);
    }
  } else if (name === "send_str") {
    for (let i = 0; i < n; i++) {
      mg_send(c, "HTTP/1.1 200 OK\r\n");
      check(c, k);
    }
  } else if (name === "printf_noargs") {
    for (let i = 0; i < n; i++) {
      mg_printf(c, "HTTP/1.1 200 OK\r\n");
      check(c, k);
    }
  } else if (name === "printf_args") {
    for (let i = 0; i < n; i++) {
      mg_printf(c, "HTTP/1.1 %d %s\r\n", 200, "OK");
      check(c, k);
    }
  } else if (name === "printf_int") {
    for (let i = 0; i < n; i++) {
      mg_printf(c, "Content-Length: %d\r\n", 1234);
      check(c, 22);
    }
  } else if (name === "printf_str") {
    for (let i = 0; i < n; i++) {
      mg_printf(c, "%s", "HTTP/1.1 200 OK\r\n");
      check(c, k);
    }
  } else if (name === "vprintf") {
    const ap = B.ap;
    for (let i = 0; i < n; i++) {
      ap.i = 0;
      mg_vprintf(c, "HTTP/1.1 %d %s\r\n", ap);
      check(c, k);
    }
  } else if (name === "vxprintf") {
    const ap = B.ap;
    const o = B.out;
    for (let i = 0; i < n; i++) {
      ap.i = 0;
      o.buf = B.buf;
      o.ofs = 0;
      o.cap = B.buf.length;
      o.n = 0;
      if (mg_vxprintf(o, "HTTP/1.1 %d %s\r\n", ap) !== k) B.errors++;
    }
  } else if (name === "snprintf") {
    for (let i = 0; i < n; i++) if (mg_snprintf(B.buf, 256, "HTTP/1.1 %d %s\r\n", 200, "OK") !== k) B.errors++;
  } else if (name === "printf_float") {
    for (let i = 0; i < n; i++) {
      mg_printf(c, "%.2f", 3.14159);
      check(c, 4);
    }
  } else if (name === "printf_esc") {
    for (let i = 0; i < n; i++) {
      mg_printf(c, "{%m:%d}", mg_print_esc, 0, "key", 1);
      check(c, 9);
    }
  } else if (name === "printf_MG_ESC") {
    for (let i = 0; i < n; i++) {
      mg_printf(c, "{%m:%d}", ...MG_ESC("key"), 1);
      check(c, 9);
    }
  } else if (name === "debug_off") {
    for (let i = 0; i < n; i++) MG_DEBUG("%lu closed", i);
  } else if (name === "utf8_put") {
    for (let i = 0; i < n; i++) if (mg_utf8_put("text/html; charset=utf-8", B.buf, 0, 256) !== 24) B.errors++;
  } else if (name === "iobuf") {
    const r = c.recv;
    for (let i = 0; i < n; i++) {
      mg_iobuf_add(r, r.len, B.status, 0, k);
      mg_iobuf_del(r, 0, k);
    }
  } else if (name === "match") {
    for (let i = 0; i < n; i++) if (!mg_match(B.uri, B.pattern, B.caps)) B.errors++;
  } else if (name === "strcasecmp") {
    for (let i = 0; i < n; i++) if (mg_strcasecmp(B.hdr, B.hdr2) !== 0) B.errors++;
  } else if (name === "url_decode") {
    for (let i = 0; i < n; i++) if (mg_url_decode(B.query, B.buf, 0, 256, true) !== 16) B.errors++;
  } else if (name === "json_get") {
    for (let i = 0; i < n; i++) if (mg_json_get(B.json, "$.params.level[2]", B.toklen) !== 57) B.errors++;
  } else if (name === "url_host") {
    for (let i = 0; i < n; i++) if (mg_url_host(B.url, B.host).len !== 11) B.errors++;
  } else if (name === "ws_accept") {
    for (let i = 0; i < n; i++) {
      mg_sha1_init(B.sha);
      mg_sha1_update(B.sha, B.key, 0, B.key.length);
      mg_sha1_final(B.digest, 0, B.sha);
      if (mg_base64_encode(B.digest, 0, 20, B.buf, 0, 256) !== 28) B.errors++;
    }
  } else B.errors++;
  return B.errors;
}

export function errors(): number {
  return B.errors;
}

/** The string of the last send, to check a case by hand. */
export function sent(): string {
  return mg_str_n(B.buf, 0, 16).toString();
}
