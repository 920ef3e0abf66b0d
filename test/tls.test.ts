// TLS over the mock network (hal/mock.ts and its double, hal/mock_tls.ts):
// mg_tls_init, MG_EV_TLS_HS, is_tls, the TLS URL schemes, a TLS listener,
// each way verification and the handshake fail, the limit on TLS
// connections, and that nothing the handler queued leaves before the peer is
// verified. Runs on Node and on XS. The same against real peers (node:tls,
// openssl, curl, ws, Chromium) is test/tls.node.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock, mg_mock_cert, mg_mock_key, mg_mock_peer } from "../hal/mock.js";
import { MG_MAX_TLS_CONNS } from "../src/config.js";
import {
  MG_EV_ACCEPT,
  MG_EV_CONNECT,
  MG_EV_ERROR,
  MG_EV_HTTP_MSG,
  MG_EV_POLL,
  MG_EV_READ,
  MG_EV_TLS_HS,
  MG_EV_WS_MSG,
  MG_EV_WS_OPEN,
  mg_connect,
  mg_connection,
  mg_listen,
  mg_mgr,
  mg_mgr_init,
  mg_printf,
  mg_send,
} from "../src/net.js";
import { mg_tls_init, mg_tls_opts } from "../src/tls.js";
import { mg_http_connect, mg_http_listen, mg_http_message, mg_http_reply } from "../src/http.js";
import { WEBSOCKET_OP_TEXT, mg_ws_connect, mg_ws_message, mg_ws_send, mg_ws_upgrade } from "../src/ws.js";

const NAMES = ["ERROR", "OPEN", "POLL", "RESOLVE", "CONNECT", "ACCEPT", "TLS_HS", "READ", "WRITE", "CLOSE", "HDRS", "MSG", "WS_OPEN", "WS_MSG"];
const DAY = 86400000;

// Certificates of the mock (PEM-shaped text): a CA, a server, and the bad ones.
const CA = mg_mock_cert({ subject: "Test CA", ca: true });
const ROGUE_CA = mg_mock_cert({ subject: "Rogue CA", ca: true });
const KEY = mg_mock_key("k1");
const SERVER = mg_mock_cert({ subject: "localhost,127.0.0.1", issuer: "Test CA", key: "k1" });
const UNTRUSTED = mg_mock_cert({ subject: "localhost", issuer: "Rogue CA", key: "k1" });
const OTHER_NAME = mg_mock_cert({ subject: "other.example", issuer: "Test CA", key: "k1" });
const CLIENT = mg_mock_cert({ subject: "device-1", issuer: "Test CA", key: "k2" });
const CLIENT_KEY = mg_mock_key("k2");

/** What a handler queues on MG_EV_CONNECT: it must not leave before the peer is verified. */
const SECRET = "GET /secret?token=" + "s3cr3t".repeat(40) + " HTTP/1.1\r\nHost: localhost\r\n\r\n";

function setup(sockets = 64) {
  const net = new mg_mock(sockets, 16384);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const events: string[] = [];
  const record = (c: mg_connection, ev: number, ev_data: any) => {
    if (ev === MG_EV_POLL) return;
    events.push((NAMES[ev] ?? String(ev)) + (ev === MG_EV_ERROR ? ":" + ev_data : ""));
  };
  return { net, mgr, events, record };
}

/** Polls until cond holds, at most n polls; returns the polls it took (n + 1 if never). */
function poll_until(net: mg_mock, mgr: mg_mgr, cond: () => boolean, n = 50): number {
  for (let i = 0; i < n; i++) {
    if (cond()) return i;
    net.poll(mgr, 1);
  }
  return cond() ? n : n + 1;
}

/** Whether the peer's raw receive queue (all the bytes that ever reached it) holds s. */
function wire_holds(p: mg_mock_peer, s: string): boolean {
  const rx = (p as any).s.rx as Uint8Array;
  let text = "";
  for (let i = 0; i < rx.length; i++) text += String.fromCharCode(rx[i]);
  return text.indexOf(s) >= 0;
}

/** A client that asks for TLS the way Mongoose 7 apps do: mg_tls_init on MG_EV_CONNECT, then the request. */
function tls_client(opts: mg_tls_opts, events: string[], record: (c: mg_connection, ev: number, d: any) => void) {
  return (c: mg_connection, ev: number, ev_data: any) => {
    record(c, ev, ev_data);
    if (ev === MG_EV_CONNECT) {
      mg_tls_init(c, opts);
      mg_printf(c, "%s", SECRET);
    }
    if (ev === MG_EV_ERROR) events.push("unsent:" + c.send.len);
  };
}

test("an https client: the handshake takes round trips, MG_EV_TLS_HS comes before any byte, then HTTP as usual", () => {
  const { net, mgr, events, record } = setup();
  const srv = net.server(443);
  let reply = "";
  let hs_polls = -1;
  let polls = 0;
  const c = mg_http_connect(mgr, "https://localhost/x", (c, ev, ev_data) => {
    record(c, ev, ev_data);
    if (ev === MG_EV_POLL) polls++;
    if (ev === MG_EV_CONNECT) {
      assert.ok(c.is_tls, "an https:// URL is TLS");
      mg_tls_init(c, { ca: CA });
      mg_printf(c, "GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n");
      polls = 0;
    }
    if (ev === MG_EV_TLS_HS) {
      hs_polls = polls;
      assert.not.ok(c.is_tls_hs, "the handshake is over");
    }
    if (ev === MG_EV_HTTP_MSG) reply = String((ev_data as mg_http_message).body);
  }, null)!;
  net.poll(mgr, 3);
  const p = net.accepted(srv)!;
  assert.ok(p !== null, "the client connected to port 443");
  assert.ok(c.is_tls_hs, "handshaking");
  assert.not.ok(wire_holds(p, "GET /x"), "the request waits for the handshake");
  p.tls({ server: true, cert: SERVER, key: KEY });
  assert.ok(poll_until(net, mgr, () => events.includes("TLS_HS")) <= 5, "done: " + events.join(" "));
  assert.is(p.tls_state, "open");
  assert.ok(hs_polls >= 2, `the handshake took ${hs_polls} polls after MG_EV_CONNECT (two round trips)`);
  poll_until(net, mgr, () => p.available > 0);
  assert.match(p.recv_str(), /^GET \/x HTTP\/1\.1\r\n/);
  assert.not.ok(wire_holds(p, "GET /x"), "the request travelled scrambled, not in plaintext");
  p.send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  poll_until(net, mgr, () => reply !== "");
  assert.is(reply, "hello");
  const hs = events.indexOf("TLS_HS");
  assert.equal(events.slice(0, hs + 2), ["OPEN", "RESOLVE", "CONNECT", "TLS_HS", "WRITE"]);
});

test("TLS URL schemes: https and wss default to 443, mqtts to 8883; ssl, tls and tcps are TLS too; tcp is not", () => {
  const { net, mgr } = setup();
  const servers: mg_mock_peer[] = [];
  const cases: [string, number, boolean][] = [
    ["https://127.0.0.1", 443, true],
    ["wss://127.0.0.1/ws", 443, true],
    ["mqtts://127.0.0.1", 8883, true],
    ["ssl://127.0.0.1:5001", 5001, true],
    ["tls://127.0.0.1:5002", 5002, true],
    ["tcps://127.0.0.1:5003", 5003, true],
    ["tcp://127.0.0.1:5004", 5004, false],
    ["http://127.0.0.1", 80, false],
  ];
  for (const [url, port, tls] of cases) {
    const srv = (servers[port] ??= net.server(port));
    const c = mg_connect(mgr, url, null, null)!;
    net.poll(mgr, 2);
    assert.is(c.is_tls, tls, url);
    assert.ok(net.accepted(srv) !== null, url + " connects to port " + port);
    assert.is(c.is_tls_hs, tls, url + (tls ? " is handshaking" : " is plain"));
    c.is_closing = true;
    net.poll(mgr, 1);
  }
});

test("the URL's host is the name checked by default (SNI and the certificate's names)", () => {
  for (const [url, cert, want] of [
    ["mqtts://broker.example", mg_mock_cert({ subject: "broker.example", issuer: "Test CA", key: "k1" }), "TLS_HS"],
    ["mqtts://Broker.EXAMPLE:8883", mg_mock_cert({ subject: "*.example", issuer: "Test CA", key: "k1" }), "TLS_HS"],
    ["mqtts://broker.example", mg_mock_cert({ subject: "a.broker.example", issuer: "Test CA", key: "k1" }), "ERROR:TLS: wrong host name (broker.example)"],
    ["tls://127.0.0.1:8883", SERVER, "TLS_HS"],
  ] as [string, string, string][]) {
    const { net, mgr, events, record } = setup();
    net.dns("broker.example", "127.0.0.1");
    net.dns("Broker.EXAMPLE", "127.0.0.1");
    const srv = net.server(8883);
    mg_connect(mgr, url, tls_client({ ca: CA }, events, record), null);
    net.poll(mgr, 3);
    net.accepted(srv)!.tls({ server: true, cert, key: KEY });
    poll_until(net, mgr, () => events.some((e) => e === "TLS_HS" || e.startsWith("ERROR")));
    assert.ok(events.indexOf(want) >= 0, url + ": " + events.join(" "));
  }
});

// Each way a real handshake fails, with the cause in MG_EV_ERROR, and the
// handler's plaintext still unsent (c.send untouched) when it fails.
const FAILURES: { what: string; peer: (p: mg_mock_peer, net: mg_mock) => void; error: string; peer_says?: string }[] = [
  { what: "unknown CA", peer: (p) => p.tls({ server: true, cert: UNTRUSTED, key: KEY }), error: "TLS: unknown CA", peer_says: "TLS: peer rejected our certificate (unknown ca)" },
  { what: "wrong host name", peer: (p) => p.tls({ server: true, cert: OTHER_NAME, key: KEY }), error: "TLS: wrong host name (localhost)", peer_says: "TLS: peer rejected our certificate (bad certificate)" },
  {
    what: "expired certificate",
    peer: (p, net) => p.tls({ server: true, cert: mg_mock_cert({ subject: "localhost", issuer: "Test CA", key: "k1", from: net.tls_wall - 400 * DAY, to: net.tls_wall - DAY }), key: KEY }),
    error: "TLS: certificate expired",
    peer_says: "TLS: peer rejected our certificate (certificate expired)",
  },
  {
    what: "certificate not yet valid",
    peer: (p, net) => p.tls({ server: true, cert: mg_mock_cert({ subject: "localhost", issuer: "Test CA", key: "k1", from: net.tls_wall + DAY }), key: KEY }),
    error: "TLS: certificate not yet valid",
  },
  { what: "handshake failure (no shared cipher suite)", peer: (p) => p.tls({ server: true, cert: SERVER, key: KEY, suites: "mock-chacha" }), error: "TLS: handshake failed (alert: handshake failure)", peer_says: "TLS: handshake failed (no shared cipher)" },
  { what: "handshake failure (a key that is not the certificate's)", peer: (p) => p.tls({ server: true, cert: SERVER, key: mg_mock_key("stolen") }), error: "TLS: handshake failed (bad signature)" },
  { what: "a peer that is not TLS", peer: (p) => p.send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), error: "TLS: peer is not TLS" },
  { what: "a peer that closes during the handshake", peer: (p) => p.close(), error: "TLS: closed during handshake" },
  { what: "a peer that resets during the handshake", peer: (p) => p.reset(), error: "TLS: closed during handshake" },
];

for (const f of FAILURES) {
  test(`${f.what}: MG_EV_ERROR names it, and the queued request never leaves`, () => {
    const { net, mgr, events, record } = setup();
    const srv = net.server(443);
    mg_connect(mgr, "https://localhost", tls_client({ ca: CA }, events, record), null);
    net.poll(mgr, 3);
    const p = net.accepted(srv)!;
    f.peer(p, net);
    poll_until(net, mgr, () => events.some((e) => e.startsWith("ERROR")));
    const err = events.find((e) => e.startsWith("ERROR:")) ?? "(none)";
    assert.ok(err.startsWith("ERROR:" + f.error), `${err} (${events.join(" ")})`);
    assert.ok(events.indexOf("unsent:" + SECRET.length) >= 0, "the request was still queued when the connection failed");
    assert.not.ok(events.includes("TLS_HS"));
    assert.not.ok(events.includes("WRITE"), "nothing was written");
    assert.is(events[events.length - 1], "CLOSE");
    if (f.peer_says !== undefined) assert.is(p.tls_state, f.peer_says, "the peer got the alert");
    assert.not.ok(wire_holds(p, "/secret"), "the peer never saw the request");
    assert.is(mgr.conns, null, "the connection is freed");
    assert.is(mgr.tls_conns, 0, "and its TLS slot");
  });
}

test("a silent peer: the handshake times out after connect_timeout", () => {
  const { net, mgr, events, record } = setup();
  const srv = net.server(443);
  mg_connect(mgr, "https://localhost", tls_client({ ca: CA }, events, record), null);
  net.poll(mgr, 3);
  assert.ok(net.accepted(srv) !== null);
  net.poll(mgr, 1, mgr.connect_timeout - 100);
  assert.not.ok(events.some((e) => e.startsWith("ERROR")), "not yet");
  net.poll(mgr, 2, 100);
  assert.ok(events.includes("ERROR:TLS handshake timeout"), events.join(" "));
});

test("skip_verification connects to an untrusted, expired certificate for another name, and logs a warning", () => {
  const { net, mgr, events, record } = setup();
  net.keep_log = true;
  const srv = net.server(443);
  mg_connect(mgr, "https://localhost", tls_client({ skip_verification: true }, events, record), null);
  net.poll(mgr, 3);
  const bad = mg_mock_cert({ subject: "nobody.example", issuer: "Rogue CA", key: "k1", to: net.tls_wall - DAY });
  net.accepted(srv)!.tls({ server: true, cert: bad, key: KEY });
  poll_until(net, mgr, () => events.includes("TLS_HS"));
  assert.ok(events.includes("TLS_HS"), events.join(" "));
  assert.match(net.log_text, /skip_verification: the peer's certificate and name are NOT checked/);
});

test("no CA given: the client trusts the platform's roots (the mock's tls_roots), and only those", () => {
  for (const [roots, want] of [
    ["", "ERROR:TLS: unknown CA"],
    [CA, "TLS_HS"],
    [ROGUE_CA, "ERROR:TLS: unknown CA"],
  ]) {
    const { net, mgr, events, record } = setup();
    net.tls_roots = roots;
    const srv = net.server(443);
    mg_connect(mgr, "https://localhost", record, null); // no mg_tls_init at all: the URL asks for TLS
    net.poll(mgr, 3);
    net.accepted(srv)!.tls({ server: true, cert: SERVER, key: KEY });
    poll_until(net, mgr, () => events.some((e) => e === "TLS_HS" || e.startsWith("ERROR")));
    assert.ok(events.some((e) => e.startsWith(want)), `roots ${roots === "" ? "none" : roots === CA ? "Test CA" : "Rogue CA"}: ${events.join(" ")}`);
  }
});

test("mg_tls_init on MG_EV_CONNECT of a tcp:// client starts TLS there (Mongoose 7's usage)", () => {
  const { net, mgr, events, record } = setup();
  const srv = net.server(9000);
  const c = mg_connect(mgr, "tcp://localhost:9000", tls_client({ ca: CA, name: "localhost" }, events, record), null)!;
  assert.not.ok(c.is_tls);
  net.poll(mgr, 3);
  const p = net.accepted(srv)!;
  p.tls({ server: true, cert: SERVER, key: KEY });
  poll_until(net, mgr, () => p.available > 0);
  assert.ok(c.is_tls);
  assert.is(p.recv_str(), SECRET);
});

test("mg_tls_init after a plaintext exchange (STARTTLS): TLS starts at the next poll, later bytes are encrypted", () => {
  const { net, mgr } = setup();
  const srv = net.server(25);
  let got = "";
  const c = mg_connect(mgr, "tcp://127.0.0.1:25", (c, ev) => {
    if (ev === MG_EV_CONNECT) mg_send(c, "STARTTLS\r\n");
    if (ev === MG_EV_READ && !c.is_tls) {
      c.recv.len = 0;
      mg_tls_init(c, { ca: CA, name: "localhost" });
      mg_send(c, "after\r\n");
    } else if (ev === MG_EV_READ) {
      got += String.fromCharCode(...c.recv.buf.subarray(0, c.recv.len));
      c.recv.len = 0;
    }
  }, null)!;
  net.poll(mgr, 2);
  const p = net.accepted(srv)!;
  assert.is(p.recv_str(), "STARTTLS\r\n");
  p.send("220 go ahead\r\n");
  net.poll(mgr, 2);
  assert.ok(c.is_tls_hs);
  p.tls({ server: true, cert: SERVER, key: KEY });
  poll_until(net, mgr, () => p.available > 0);
  assert.is(p.recv_str(), "after\r\n");
  p.send("250 ok\r\n");
  poll_until(net, mgr, () => got !== "");
  assert.is(got, "250 ok\r\n");
});

test("a TLS listener: mg_tls_init on MG_EV_ACCEPT, the peer verifies it, HTTP over it; a plain client is not TLS", () => {
  const { net, mgr, events, record } = setup();
  const lc = mg_http_listen(mgr, "https://0.0.0.0:8443", (c, ev, ev_data) => {
    record(c, ev, ev_data);
    if (ev === MG_EV_ACCEPT) mg_tls_init(c, { cert: SERVER, key: KEY });
    if (ev === MG_EV_HTTP_MSG) mg_http_reply(c, 200, "", "secure %s\n", c.is_tls ? "yes" : "no");
  }, null)!;
  assert.ok(lc.is_tls, "an https:// listener is TLS");
  const p = net.client(8443)!;
  p.tls({ ca: CA, name: "localhost" });
  assert.ok(poll_until(net, mgr, () => p.tls_state === "open") >= 2, "round trips");
  assert.is(p.tls_state, "open");
  p.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  poll_until(net, mgr, () => p.available > 0);
  assert.match(p.recv_str(), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nsecure yes\n$/);
  assert.equal(events.slice(0, 3), ["OPEN", "OPEN", "ACCEPT"]);
  assert.ok(events.indexOf("TLS_HS") > 2);

  // plain HTTP to the TLS port: refused with the cause, and the listener goes on
  events.length = 0;
  const q = net.client(8443)!;
  q.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  poll_until(net, mgr, () => q.closed);
  assert.ok(events.some((e) => e.startsWith("ERROR:TLS: peer is not TLS")), events.join(" "));
  assert.not.ok(events.includes("MSG"), "no request came through");
});

test("a TLS listener takes its options from mg_tls_init on the listener; without any, accepted connections fail clearly", () => {
  const { net, mgr, events, record } = setup();
  const with_opts = mg_http_listen(mgr, "https://0.0.0.0:8443", (c, ev, ev_data) => {
    if (ev === MG_EV_HTTP_MSG) mg_http_reply(c, 200, "", "ok\n");
  }, null)!;
  mg_tls_init(with_opts, { cert: SERVER, key: KEY });
  const p = net.client(8443)!;
  p.tls({ ca: CA, name: "127.0.0.1" });
  poll_until(net, mgr, () => p.tls_state !== "handshake");
  assert.is(p.tls_state, "open");

  mg_listen(mgr, "tls://0.0.0.0:9443", record, null);
  const q = net.client(9443)!;
  q.tls({ ca: CA, name: "localhost" });
  poll_until(net, mgr, () => events.some((e) => e.startsWith("ERROR")));
  assert.ok(events.includes("ERROR:TLS: no certificate and key (mg_tls_init on MG_EV_ACCEPT)"), events.join(" "));
});

test("server side failures: a client that does not trust us, one with other suites, one sending data before the handshake", () => {
  const { net, mgr, events, record } = setup();
  mg_listen(mgr, "tls://0.0.0.0:9443", (c, ev, ev_data) => {
    record(c, ev, ev_data);
    if (ev === MG_EV_ACCEPT) mg_tls_init(c, { cert: SERVER, key: KEY });
  }, null);
  const cases: [(p: mg_mock_peer) => void, string][] = [
    [(p) => p.tls({ ca: ROGUE_CA, name: "localhost" }), "ERROR:TLS: peer rejected our certificate (unknown ca)"],
    [(p) => p.tls({ ca: CA, name: "localhost", suites: "mock-chacha,mock-des" }), "ERROR:TLS: handshake failed (no shared cipher)"],
    [(p) => p.send(new Uint8Array([23, 3, 3, 0, 4, 1, 2, 3, 4])), "ERROR:TLS: handshake failed (data before the handshake)"],
  ];
  for (const [start, want] of cases) {
    events.length = 0;
    const p = net.client(9443)!;
    start(p);
    poll_until(net, mgr, () => events.includes("CLOSE"));
    assert.ok(events.includes(want), want + " / " + events.join(" "));
    assert.not.ok(events.includes("READ"), "no application bytes were delivered");
  }
});

test("mutual TLS: a server with a CA asks for the client's certificate and checks it", () => {
  const cases: [mg_tls_opts, string, string][] = [
    [{ ca: CA, cert: CLIENT, key: CLIENT_KEY }, "TLS_HS", "open"],
    [{ ca: CA }, "ERROR:TLS: no client certificate", "TLS: peer rejected our certificate (certificate required)"],
    [{ ca: CA, cert: mg_mock_cert({ subject: "device-1", issuer: "Rogue CA", key: "k2" }), key: CLIENT_KEY }, "ERROR:TLS: unknown CA (client)", "TLS: peer rejected our certificate (unknown ca)"],
  ];
  for (const [client_opts, server_sees, client_sees] of cases) {
    const { net, mgr, events, record } = setup();
    mg_listen(mgr, "tls://0.0.0.0:9443", (c, ev, ev_data) => {
      record(c, ev, ev_data);
      if (ev === MG_EV_ACCEPT) mg_tls_init(c, { ca: CA, cert: SERVER, key: KEY });
    }, null);
    const cl: string[] = [];
    mg_connect(mgr, "tls://localhost:9443", (c, ev, ev_data) => {
      if (ev === MG_EV_CONNECT) mg_tls_init(c, client_opts);
      if (ev === MG_EV_TLS_HS) cl.push("open");
      if (ev === MG_EV_ERROR) cl.push(ev_data);
    }, null);
    poll_until(net, mgr, () => cl.length > 0 && events.some((e) => e === "TLS_HS" || e.startsWith("ERROR")));
    assert.ok(events.includes(server_sees), events.join(" "));
    assert.is(cl[0], client_sees);
  }
});

test("wss:// between two managers over the mock: the upgrade and the messages go through TLS both ways", () => {
  const { net, mgr } = setup();
  const server = new mg_mgr();
  mg_mgr_init(server, net);
  mg_http_listen(server, "https://0.0.0.0:8443", (c, ev, ev_data) => {
    if (ev === MG_EV_ACCEPT) mg_tls_init(c, { cert: SERVER, key: KEY });
    if (ev === MG_EV_HTTP_MSG) mg_ws_upgrade(c, ev_data as mg_http_message, null);
    if (ev === MG_EV_WS_MSG) mg_ws_send(c, (ev_data as mg_ws_message).data, (ev_data as mg_ws_message).data.len, WEBSOCKET_OP_TEXT);
  }, null);
  const got: string[] = [];
  mg_ws_connect(mgr, "wss://localhost:8443/ws", (c, ev, ev_data) => {
    if (ev === MG_EV_CONNECT) mg_tls_init(c, { ca: CA });
    if (ev === MG_EV_WS_OPEN) mg_ws_send(c, "over tls", 8, WEBSOCKET_OP_TEXT);
    if (ev === MG_EV_WS_MSG) got.push(String((ev_data as mg_ws_message).data));
    if (ev === MG_EV_ERROR) got.push("error " + ev_data);
  }, null);
  for (let i = 0; i < 40 && got.length === 0; i++) {
    net.poll(mgr, 1);
    net.poll(server, 1);
  }
  assert.equal(got, ["over tls"]);
});

test("a HAL without TLS: TLS URLs fail with 'TLS not available' and send nothing; a TLS listener is refused", () => {
  const { net, mgr, events, record } = setup();
  net.tls = undefined;
  for (const url of ["https://127.0.0.1", "wss://127.0.0.1/ws", "mqtts://127.0.0.1", "ssl://127.0.0.1:1", "tls://127.0.0.1:1", "tcps://127.0.0.1:1"]) {
    events.length = 0;
    const srv = net.server(url.startsWith("mqtts") ? 8883 : url.indexOf(":1") > 0 ? 1 : 443);
    mg_connect(mgr, url, record, null);
    net.poll(mgr, 3);
    assert.equal(events, ["OPEN", "ERROR:TLS not available", "CLOSE"], url);
    assert.is(net.accepted(srv), null, url + ": no connection was even made");
  }
  events.length = 0;
  mg_http_connect(mgr, "https://127.0.0.1/", record, null);
  mg_ws_connect(mgr, "wss://127.0.0.1/", record, null);
  net.poll(mgr, 2);
  assert.equal(events, ["OPEN", "ERROR:TLS not available", "OPEN", "ERROR:TLS not available", "CLOSE", "CLOSE"]);
  assert.is(mg_http_listen(mgr, "https://0.0.0.0:8443", null, null), null);
  // mg_tls_init on a plain connection fails the same way
  events.length = 0;
  net.server(9000);
  mg_connect(mgr, "tcp://127.0.0.1:9000", (c, ev, d) => {
    record(c, ev, d);
    if (ev === MG_EV_CONNECT) mg_tls_init(c, { ca: CA });
  }, null);
  net.poll(mgr, 3);
  assert.equal(events, ["OPEN", "RESOLVE", "CONNECT", "ERROR:TLS not available", "CLOSE"]);
});

test(`MG_MAX_TLS_CONNS (${MG_MAX_TLS_CONNS}) TLS connections at once; one more fails, and a closed one makes room`, () => {
  const { net, mgr, events, record } = setup(2 * MG_MAX_TLS_CONNS + 8);
  mg_listen(mgr, "tls://0.0.0.0:9443", (c, ev, d) => {
    if (ev === MG_EV_ACCEPT) mg_tls_init(c, { cert: SERVER, key: KEY });
    if (ev === MG_EV_ERROR) record(c, ev, d);
  }, null);
  const peers: mg_mock_peer[] = [];
  for (let i = 0; i < MG_MAX_TLS_CONNS; i++) {
    const p = net.client(9443)!;
    p.tls({ ca: CA, name: "localhost" });
    peers.push(p);
  }
  poll_until(net, mgr, () => peers.every((p) => p.tls_state === "open"));
  assert.ok(peers.every((p) => p.tls_state === "open"));
  assert.is(mgr.tls_conns, MG_MAX_TLS_CONNS);
  const extra = net.client(9443)!;
  extra.tls({ ca: CA, name: "localhost" });
  poll_until(net, mgr, () => events.length > 0);
  assert.equal(events, ["ERROR:TLS: too many TLS connections (MG_MAX_TLS_CONNS)"]);
  peers[0].close();
  poll_until(net, mgr, () => mgr.tls_conns < MG_MAX_TLS_CONNS);
  const again = net.client(9443)!;
  again.tls({ ca: CA, name: "localhost" });
  poll_until(net, mgr, () => again.tls_state !== "handshake");
  assert.is(again.tls_state, "open");
});

test("after the handshake: the peer's close ends the connection quietly; the manager's close sends close_notify", () => {
  const { net, mgr, events, record } = setup();
  const srv = net.server(443);
  mg_connect(mgr, "https://localhost", tls_client({ ca: CA }, events, record), null);
  net.poll(mgr, 3);
  let p = net.accepted(srv)!;
  p.tls({ server: true, cert: SERVER, key: KEY });
  poll_until(net, mgr, () => p.available > 0);
  p.close(); // a FIN, without close_notify: the end of the stream, as a TCP close
  poll_until(net, mgr, () => events.includes("CLOSE"));
  assert.not.ok(events.some((e) => e.startsWith("ERROR")), events.join(" "));
  assert.is(events[events.length - 1], "CLOSE");
  // a manager closing sends close_notify: the peer sees a clean end
  events.length = 0;
  const c = mg_connect(mgr, "https://localhost", tls_client({ ca: CA }, events, record), null)!;
  net.poll(mgr, 3);
  p = net.accepted(srv)!;
  p.tls({ server: true, cert: SERVER, key: KEY });
  poll_until(net, mgr, () => p.available > 0);
  p.recv();
  c.is_draining = true;
  poll_until(net, mgr, () => p.closed);
  assert.ok(p.closed);
  assert.is(p.tls_state, "open", "ended by close_notify, not failed");
});

test("the handshake holds a pool slot and a TLS slot only while it runs; a failed one gives both back", () => {
  const { net, mgr, events, record } = setup();
  const srv = net.server(443);
  for (let i = 0; i < 3; i++) {
    mg_connect(mgr, "https://localhost", tls_client({ ca: CA }, events, record), null);
    net.poll(mgr, 3);
    net.accepted(srv)!.tls({ server: true, cert: UNTRUSTED, key: KEY });
    poll_until(net, mgr, () => mgr.conns === null);
    assert.is(mgr.conns, null);
    assert.is(mgr.tls_conns, 0);
  }
  assert.is(events.filter((e) => e.startsWith("ERROR:TLS: unknown CA")).length, 3);
});

test("MG_EV_OPEN and MG_EV_RESOLVE come before any TLS; the events of a TLS client are Mongoose's, in order", () => {
  const { net, mgr, events, record } = setup();
  net.dns("device.example", "127.0.0.1");
  const srv = net.server(443);
  mg_connect(mgr, "https://device.example", record, null);
  net.tls_roots = CA;
  net.poll(mgr, 3);
  net.accepted(srv)!.tls({ server: true, cert: mg_mock_cert({ subject: "device.example", issuer: "Test CA", key: "k1" }), key: KEY });
  poll_until(net, mgr, () => events.includes("TLS_HS"));
  assert.equal(events, ["OPEN", "RESOLVE", "CONNECT", "TLS_HS"]);
});

test.run();
