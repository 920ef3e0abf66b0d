// The device dashboard over the mock network and the simulated board: the
// packed UI, login and token rules, the settings API, the streamed upload,
// the log and the WebSocket push. Runs on Node and XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock, mg_mock_peer } from "../hal/mock.js";
import { MG_IO_SIZE } from "../src/config.js";
import { mg_boot_timestamp, mg_mgr, mg_mgr_free, mg_mgr_init } from "../src/net.js";
import { ntp_reply, opts, ReplyOpts } from "./sntp_util.js";
import { MG_INFO } from "../src/log.js";
import { mg_crc32 } from "../src/util.js";
import { mg_utf8_encode } from "../src/str.js";
import { mg_packed_file } from "../src/fs.js";
import {
  DASH_LOG_LINES,
  dash_app,
  dash_board_sim,
  dash_free,
  dash_init,
  dash_name_ok,
  dash_settings,
  dash_settings_parse,
} from "../firmware/dashboard/main.js";

// the test's text is ASCII: its UTF-8 is its bytes
const enc = mg_utf8_encode;

const INDEX = "<!doctype html><title>dash</title><h1>dashboard</h1>";
const GZ = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3, 1, 2, 3]);
const FILES: mg_packed_file[] = [
  { path: "/index.html", data: enc(INDEX), mtime: 1700000000 },
  { path: "/index.html.gz", data: GZ, mtime: 1700000000 },
  { path: "/app.js", data: enc("console.log(1)"), mtime: 1700000001 },
];

interface Rig {
  net: mg_mock;
  mgr: mg_mgr;
  board: dash_board_sim;
  app: dash_app;
}

function rig(board?: dash_board_sim, sntp = ""): Rig {
  const net = new mg_mock(64, 1 << 16);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const b = board ?? new dash_board_sim(() => net.now);
  b.sntp = sntp;
  const app = dash_init(mgr, { url: "http://0.0.0.0:80", board: b, files: FILES, user: "admin", pass: "pw" });
  return { net, mgr, board: b, app };
}
function done(r: Rig): void {
  dash_free(r.app);
  mg_mgr_free(r.mgr);
}

class Resp {
  status = 0;
  head = "";
  body = "";
  header(name: string): string | null {
    const m = new RegExp("\\r\\n" + name + ": ([^\\r]*)", "i").exec(this.head);
    return m === null ? null : m[1];
  }
}

/** Reads one response out of raw text (Content-Length framing). */
function parse(raw: string): Resp {
  const r = new Resp();
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return r;
  r.head = raw.slice(0, end);
  r.status = Number(raw.slice(9, 12));
  const cl = r.header("Content-Length");
  r.body = raw.slice(end + 4, end + 4 + (cl === null ? 0 : Number(cl)));
  return r;
}

/** Sends a request (bytes in pieces of at most MG_IO_SIZE) on a new connection, polls, parses the answer. */
function req(r: Rig, text: string | Uint8Array, p?: mg_mock_peer): Resp {
  const peer = p ?? r.net.client(80)!;
  const b = typeof text === "string" ? enc(text) : text;
  for (let i = 0, stuck = 0; i < b.length && stuck < 50; ) {
    const k = peer.send(b, Math.min(MG_IO_SIZE, b.length - i), i);
    i += k;
    stuck = k === 0 ? stuck + 1 : 0;
    r.net.poll(r.mgr, 3);
  }
  r.net.poll(r.mgr, 6);
  return parse(peer.recv_str());
}

function get(r: Rig, uri: string, hdrs = ""): Resp {
  return req(r, `GET ${uri} HTTP/1.1\r\nHost: x\r\n${hdrs}\r\n`);
}
function post(r: Rig, uri: string, body: string, hdrs = ""): Resp {
  return req(r, `POST ${uri} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${hdrs}\r\n${body}`);
}
const BASIC_OK = "Authorization: Basic YWRtaW46cHc=\r\n"; // admin:pw
const BASIC_BAD = "Authorization: Basic YWRtaW46bm8=\r\n"; // admin:no

function login(r: Rig): string {
  const res = post(r, "/api/login", "", BASIC_OK);
  assert.is(res.status, 200);
  const m = /"token":"([0-9a-f]{32})"/.exec(res.body);
  assert.ok(m !== null, res.body);
  return m![1];
}
const cookie = (t: string) => `Cookie: theme=dark; access_token=${t}\r\n`;

// --- the UI --------------------------------------------------------------------

test("the page comes from the packed filesystem: gzip, ETag, 304, no login needed", () => {
  const r = rig();
  let res = get(r, "/");
  assert.is(res.status, 200);
  assert.is(res.body, INDEX);
  assert.ok(res.header("Content-Type")!.startsWith("text/html"));
  const etag = res.header("Etag")!;
  assert.ok(etag.length > 2, "an ETag");
  res = get(r, "/", "Accept-Encoding: gzip, deflate\r\n");
  assert.is(res.header("Content-Encoding"), "gzip");
  assert.is(res.body.length, GZ.length);
  res = get(r, "/index.html", `If-None-Match: ${etag}\r\n`);
  assert.is(res.status, 304);
  assert.is(get(r, "/app.js").body, "console.log(1)");
  assert.is(get(r, "/nope.css").status, 404);
  done(r);
});

// --- login and tokens --------------------------------------------------------

test("every API and the WebSocket answer 401 without a token", () => {
  const r = rig();
  for (const uri of ["/api/settings", "/api/stats", "/api/log", "/websocket"]) {
    const res = get(r, uri);
    assert.is(res.status, 401, uri);
    assert.is(res.header("WWW-Authenticate"), null, "no browser password pop-up");
    assert.ok(res.body.includes('"error"'), uri);
  }
  assert.is(post(r, "/api/settings", '{"led":true}').status, 401);
  assert.is(r.board.led_on, false, "nothing applied");
  assert.is(post(r, "/api/reboot", "").status, 401);
  assert.is(get(r, "/api/settings", cookie("0123456789abcdef0123456789abcdef")).status, 401, "an unknown token");
  assert.is(get(r, "/api/settings", "Cookie: access_token=short\r\n").status, 401);
  done(r);
});

test("login: wrong password 401; right one gives a token as cookie, Bearer or query; logout kills it", () => {
  const r = rig();
  assert.is(post(r, "/api/login", "", BASIC_BAD).status, 401);
  assert.is(post(r, "/api/login", "").status, 401, "no credentials");
  const res = post(r, "/api/login", "", BASIC_OK);
  const t = /"token":"([0-9a-f]{32})"/.exec(res.body)![1];
  const sc = res.header("Set-Cookie")!;
  assert.ok(sc.startsWith(`access_token=${t};`), sc);
  assert.ok(sc.includes("HttpOnly") && sc.includes("SameSite=Strict"), sc);
  assert.is(get(r, "/api/settings", cookie(t)).status, 200);
  assert.is(get(r, "/api/settings", `Authorization: Bearer ${t}\r\n`).status, 200);
  assert.is(get(r, "/api/settings?access_token=" + t).status, 200);
  assert.is(get(r, "/api/settings", BASIC_OK).status, 200, "Basic credentials work without a login");
  assert.is(get(r, "/api/settings", BASIC_BAD).status, 401);
  const out = post(r, "/api/logout", "", cookie(t));
  assert.is(out.status, 200);
  assert.ok(out.header("Set-Cookie")!.includes("Max-Age=0"));
  assert.is(get(r, "/api/settings", cookie(t)).status, 401, "the token is gone");
  assert.is(get(r, "/api/login").status, 405);
  done(r);
});

test("sessions: a fixed table; the oldest login makes room", () => {
  const r = rig();
  const first = login(r);
  r.net.advance(10);
  const later: string[] = [];
  for (let i = 0; i < 4; i++) {
    later.push(login(r));
    r.net.advance(10);
  }
  assert.is(get(r, "/api/stats", cookie(first)).status, 401, "pushed out");
  for (const t of later) assert.is(get(r, "/api/stats", cookie(t)).status, 200);
  done(r);
});

// --- settings ------------------------------------------------------------------

test("settings: saved through the JSON API, read back, persisted by the board, loaded after a restart", () => {
  const r = rig();
  const t = login(r);
  let res = get(r, "/api/settings", cookie(t));
  assert.is(res.body, '{"device_name":"mgts-device","log_level":2,"interval_ms":1000,"led":false,"sntp":""}');
  res = post(r, "/api/settings", '{"device_name":"Kitchen \\"east\\"","led":true,"interval_ms":500}', cookie(t) + "Content-Type: application/json\r\n");
  assert.is(res.status, 200, res.body);
  assert.is(res.body, '{"device_name":"Kitchen \\"east\\"","log_level":2,"interval_ms":500,"led":true,"sntp":""}');
  assert.is(r.board.led_on, true, "applied to the pin");
  assert.is(get(r, "/api/settings", cookie(t)).body, res.body);
  assert.is(r.board.saved, res.body, "persisted");
  // a restart: a new manager and app over the same board
  const board = r.board;
  done(r);
  const r2 = rig(board);
  const t2 = login(r2);
  assert.is(get(r2, "/api/settings", cookie(t2)).body, res.body);
  assert.is(r2.app.settings.interval_ms, 500);
  done(r2);
});

test("settings: bad JSON and bad values are 400 with the reason, and change nothing", () => {
  const r = rig();
  const t = login(r);
  const before = get(r, "/api/settings", cookie(t)).body;
  const bad: [string, string][] = [
    ["{", "invalid JSON"],
    ["", "invalid JSON"],
    ['{"led":true} x', "invalid JSON"],
    ["[1,2]", "invalid JSON"],
    ['{"led":"yes"}', "led"],
    ['{"log_level":7}', "log_level"],
    ['{"log_level":1.5}', "log_level"],
    ['{"interval_ms":5}', "interval_ms"],
    ['{"device_name":""}', "device_name"],
    ['{"device_name":42}', "device_name"],
    ['{"device_name":"a\\nb"}', "device_name"],
    ['{"led":false,"device_name":"' + "x".repeat(33) + '"}', "device_name"],
    ['{"sntp":"pool.ntp.org"}', "sntp"],
    ['{"sntp":"tcp://pool.ntp.org:123"}', "sntp"],
    ['{"sntp":"udp://pool.ntp.org"}', "sntp"],
    ['{"sntp":"udp://a b:123"}', "sntp"],
    ['{"sntp":"udp://' + "x".repeat(60) + ':123"}', "sntp"],
    ['{"sntp":false}', "sntp"],
  ];
  for (const [body, why] of bad) {
    const res = post(r, "/api/settings", body, cookie(t));
    assert.is(res.status, 400, body);
    assert.ok(res.body.includes(why), body + " → " + res.body);
  }
  assert.is(get(r, "/api/settings", cookie(t)).body, before);
  assert.is(r.board.saved, null, "nothing saved");
  assert.is(r.board.led_on, false);
  done(r);
});

test("dash_settings_parse and dash_name_ok on their own", () => {
  const s = new dash_settings();
  assert.is(dash_settings_parse('{"log_level":4,"unknown":[1,{"a":2}]}', s), "");
  assert.is(s.log_level, 4);
  assert.is(dash_settings_parse("  {}  ", s), "");
  assert.is(dash_settings_parse('{"sntp":"udp://pool.ntp.org:123"}', s), "");
  assert.is(s.sntp, "udp://pool.ntp.org:123");
  assert.is(dash_settings_parse('{"sntp":"UDP://10.0.0.1:10123"}', s), "");
  assert.is(dash_settings_parse('{"sntp":""}', s), "");
  assert.is(s.sntp, "");
  assert.ok(dash_name_ok("firmware-1.2_b.bin"));
  for (const n of ["", ".hidden", "../x", "a/b", "a b", "x".repeat(65), "é"]) assert.not.ok(dash_name_ok(n), n);
});

// --- upload --------------------------------------------------------------------

function multipart(name: string, data: Uint8Array, field = true): Uint8Array {
  const B = "----mgtsBoundary7MA4YWxk";
  const pre = (field ? `--${B}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n` : "") +
    `--${B}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const post = `\r\n--${B}--\r\n`;
  const body = new Uint8Array(pre.length + data.length + post.length);
  body.set(enc(pre), 0);
  body.set(data, pre.length);
  body.set(enc(post), pre.length + data.length);
  return body;
}
function upload_req(body: Uint8Array, hdrs: string, len = body.length): Uint8Array {
  const head = enc(`POST /api/upload HTTP/1.1\r\nHost: x\r\n${hdrs}Content-Type: multipart/form-data; boundary=----mgtsBoundary7MA4YWxk\r\nContent-Length: ${len}\r\n\r\n`);
  const all = new Uint8Array(head.length + body.length);
  all.set(head, 0);
  all.set(body, head.length);
  return all;
}
function payload(n: number): Uint8Array {
  const d = new Uint8Array(n);
  let x = 7;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    d[i] = x >> 16;
  }
  // boundary-looking bytes inside the file must not end it
  if (n > 64) d.set(enc("\r\n--mgtsBoundary"), n >> 1);
  return d;
}

test("upload: a file many times MG_IO_SIZE streams through part events to the board, byte for byte", () => {
  const r = rig();
  const t = login(r);
  const data = payload(MG_IO_SIZE * 10 + 123);
  const res = req(r, upload_req(multipart("fw-1.bin", data), cookie(t)));
  assert.is(res.status, 200, res.body);
  assert.is(res.body, `{"ok":true,"name":"fw-1.bin","size":${data.length}}\n`);
  assert.is(r.board.up_name, "fw-1.bin");
  assert.is(r.board.up_size, data.length);
  assert.is(r.board.up_crc, mg_crc32(0, data, 0, data.length));
  assert.ok(r.board.up_done, "committed");
  done(r);
});

test("upload: 401 without a token (at the head, the body is not read, nothing reaches the board); 400 for bad names and no file", () => {
  const r = rig();
  let res = req(r, upload_req(multipart("a.bin", payload(5000)), ""));
  assert.is(res.status, 401);
  assert.is(r.board.up_name, "", "the board saw nothing");
  const t = login(r);
  res = req(r, upload_req(multipart("../evil", payload(100)), cookie(t)));
  assert.is(res.status, 400);
  assert.ok(res.body.includes("invalid file name"));
  assert.is(r.board.up_name, "");
  res = post(r, "/api/upload", "just bytes", cookie(t) + "Content-Type: application/octet-stream\r\n");
  assert.is(res.status, 400);
  assert.ok(res.body.includes("no file"));
  res = get(r, "/api/upload", cookie(t));
  assert.is(res.status, 405);
  // after all that, a good one still goes through
  res = req(r, upload_req(multipart("ok.txt", enc("fine"), false), cookie(t)));
  assert.is(res.status, 200, res.body);
  assert.is(r.board.up_size, 4);
  done(r);
});

test("upload: too large for the board is 500 with the reason; a cut upload is thrown away; one at a time", () => {
  const r = rig();
  const t = login(r);
  r.board.up_max = 3000;
  let res = req(r, upload_req(multipart("big.bin", payload(8000)), cookie(t)));
  assert.is(res.status, 500);
  assert.ok(res.body.includes("file too large"), res.body);
  assert.not.ok(r.board.up_done);
  assert.not.ok(r.board.up_open, "the sink was closed");
  r.board.up_max = 1 << 20;
  // a client that goes away halfway
  const data = payload(6000);
  const whole = upload_req(multipart("cut.bin", data), cookie(t));
  const p = r.net.client(80)!;
  p.send(whole, 3000, 0);
  r.net.poll(r.mgr, 4);
  assert.ok(r.board.up_open, "receiving");
  // meanwhile a second upload is refused
  res = req(r, upload_req(multipart("two.bin", payload(10)), cookie(t)));
  assert.is(res.status, 409);
  p.close();
  r.net.poll(r.mgr, 4);
  assert.not.ok(r.board.up_open);
  assert.not.ok(r.board.up_done, "not committed");
  // the slot is free again
  res = req(r, upload_req(multipart("after.bin", payload(10)), cookie(t)));
  assert.is(res.status, 200, res.body);
  done(r);
});

// --- log and live data ---------------------------------------------------------------

test("log: the app's lines in a fixed ring, read from a line number on", () => {
  const r = rig();
  const t = login(r);
  let res = get(r, "/api/log", cookie(t));
  assert.is(res.status, 200);
  const j = JSON.parse(res.body);
  assert.ok(j.lines.some((l: string) => l.includes("dash: admin logged in")), res.body);
  for (let i = 0; i < DASH_LOG_LINES + 5; i++) MG_INFO("line %d \"quoted\" \t tab", i);
  // the ring holds the last DASH_LOG_LINES lines; a reply carries what fits, "next" says where to go on
  const lines: string[] = [];
  let next = 0;
  let replies = 0;
  for (; replies < 10 && next < r.app.ring.next; replies++) {
    const k = JSON.parse(get(r, "/api/log?since=" + next, cookie(t)).body);
    assert.ok(k.next > next, "progress");
    lines.push(...k.lines);
    next = k.next;
  }
  assert.ok(replies > 1, "more than one reply's worth");
  assert.is(lines.length, DASH_LOG_LINES);
  for (let i = 0; i < DASH_LOG_LINES; i++) {
    assert.ok(lines[i].endsWith(`line ${i + 5} "quoted" \t tab`), lines[i]);
  }
  assert.is(JSON.parse(get(r, "/api/log?since=" + next, cookie(t)).body).lines.length, 0);
  done(r);
});

test("log lines carry their time since the app started, whole and in decimal (the log's 6-hex-digit prefix wraps after 4.7 h); the metrics the clock time of the start", () => {
  const r = rig();
  const t = login(r);
  r.net.advance(5 * 3600 * 1000); // past 0x1000000 ms
  const at = r.net.now;
  MG_INFO("five hours in");
  const j = JSON.parse(get(r, "/api/log", cookie(t)).body);
  const line = j.lines.find((l: string) => l.endsWith("five hours in"));
  assert.is(line, `${Math.floor(at - r.app.started)} 2 five hours in`);
  assert.ok(at - r.app.started > 0x1000000);
  for (const l of j.lines) assert.match(l, /^\d+ \d /);
  const m = JSON.parse(get(r, "/api/stats", cookie(t)).body);
  assert.is(m.started, mg_boot_timestamp() !== 0 ? Math.floor(mg_boot_timestamp() + r.app.started) : 0, "0 while the clock is not set");
  done(r);
});

/** Reads the text frames out of raw server bytes (unmasked, as a server sends). */
function frames(raw: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i + 2 <= raw.length) {
    let len = raw.charCodeAt(i + 1) & 127;
    let h = 2;
    if (len === 126) {
      len = (raw.charCodeAt(i + 2) << 8) | raw.charCodeAt(i + 3);
      h = 4;
    }
    if (i + h + len > raw.length) break;
    if ((raw.charCodeAt(i) & 15) === 1) out.push(raw.slice(i + h, i + h + len));
    i += h + len;
  }
  return out;
}
const WS_REQ = "GET /websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

test("WebSocket: metrics at once and every interval, then the new log lines; the interval follows the settings", () => {
  const r = rig();
  const t = login(r);
  const p = r.net.client(80)!;
  p.send(WS_REQ + cookie(t) + "\r\n");
  r.net.poll(r.mgr, 4);
  let raw = p.recv_str();
  assert.ok(raw.startsWith("HTTP/1.1 101"), raw.slice(0, 40));
  let msgs = frames(raw.slice(raw.indexOf("\r\n\r\n") + 4)).map((s) => JSON.parse(s));
  assert.is(msgs[0].t, "m");
  assert.is(msgs[0].board, "sim");
  assert.ok(typeof msgs[0].heap_free === "number" && typeof msgs[0].rssi === "number" && typeof msgs[0].temp === "number");
  assert.ok(msgs.some((m) => m.t === "log" && m.lines.some((l: string) => l.includes("logged in"))), "the ring so far");
  const up0 = msgs[0].uptime;
  MG_INFO("something new");
  r.net.advance(1000);
  r.net.poll(r.mgr, 3);
  msgs = frames(p.recv_str()).map((s) => JSON.parse(s));
  assert.is(msgs[0].t, "m");
  assert.ok(msgs[0].uptime > up0, "live values change");
  assert.is(msgs.length, 2);
  assert.equal(msgs[1].lines.length, 1);
  assert.ok(msgs[1].lines[0].includes("something new"));
  // 250 ms interval: four frames a second
  assert.is(post(r, "/api/settings", '{"interval_ms":250}', cookie(t)).status, 200);
  p.recv_str();
  let n = 0;
  for (let i = 0; i < 4; i++) {
    r.net.advance(250);
    r.net.poll(r.mgr, 2);
    n += frames(p.recv_str()).filter((s) => s.startsWith('{"t":"m"')).length;
  }
  assert.is(n, 4);
  done(r);
});

test("stats and reboot", () => {
  const r = rig();
  const t = login(r);
  const s = JSON.parse(get(r, "/api/stats", cookie(t)).body);
  assert.is(s.t, "m");
  assert.is(s.name, "mgts-device");
  assert.is(s.pin, 0);
  assert.is(post(r, "/api/reboot", "", cookie(t)).status, 200);
  assert.is(r.board.reboots, 0, "not before the answer is out");
  r.net.advance(400);
  r.net.poll(r.mgr, 2);
  assert.is(r.board.reboots, 1);
  assert.is(get(r, "/api/nope", cookie(t)).status, 404);
  done(r);
});

// --- JSON-RPC over the WebSocket ----------------------------------------------------

/** A client's text frame, masked (a server requires it) with the zero key, so the ASCII payload goes as it is. */
function ws_text(s: string): string {
  const n = s.length;
  const len = n < 126 ? String.fromCharCode(0x80 | n) : String.fromCharCode(0x80 | 126, n >> 8, n & 255);
  return "\x81" + len + "\0\0\0\0" + s;
}
function ws_open(r: Rig, t: string): mg_mock_peer {
  const p = r.net.client(80)!;
  p.send(WS_REQ + cookie(t) + "\r\n");
  r.net.poll(r.mgr, 4);
  assert.ok(p.recv_str().startsWith("HTTP/1.1 101"));
  return p;
}
/** Sends a frame on the dashboard's WebSocket; returns the RPC replies (the metrics frames left out). */
function rpc(r: Rig, p: mg_mock_peer, frame: string): any[] {
  p.send(ws_text(frame));
  r.net.poll(r.mgr, 3);
  return frames(p.recv_str())
    .filter((m) => !m.startsWith('{"t":'))
    .map((m) => JSON.parse(m));
}

test("JSON-RPC over the WebSocket: rpc.list, settings.get, settings.set (validated, applied, saved), reboot", () => {
  const r = rig();
  const t = login(r);
  const p = ws_open(r, t);
  assert.equal(rpc(r, p, '{"id":1,"method":"rpc.list"}'), [{ id: 1, result: ["settings.get", "settings.set", "reboot", "rpc.list"] }]);
  const [got] = rpc(r, p, '{"jsonrpc":"2.0","id":"a","method":"settings.get"}');
  assert.equal(got, { id: "a", result: JSON.parse(get(r, "/api/settings", cookie(t)).body) });
  // set: the same rules and effects as POST /api/settings
  const [set] = rpc(r, p, '{"id":2,"method":"settings.set","params":{"led":true,"interval_ms":500,"device_name":"Porch"}}');
  assert.equal(set.result, { device_name: "Porch", log_level: 2, interval_ms: 500, led: true, sntp: "" });
  assert.is(r.board.led_on, true);
  assert.is(r.app.settings.interval_ms, 500);
  assert.equal(JSON.parse(r.board.saved!), set.result, "saved by the board");
  assert.equal(JSON.parse(get(r, "/api/settings", cookie(t)).body), set.result);
  // invalid params: -32602 with the reason, nothing changes
  const bad: [string, string][] = [
    ['{"id":3,"method":"settings.set","params":{"log_level":9}}', "log_level"],
    ['{"id":3,"method":"settings.set","params":[true]}', "an object is expected"],
    ['{"id":3,"method":"settings.set","params":{"led":"on","device_name":"Never"}}', "led"],
    ['{"id":3,"method":"settings.set"}', "params"],
  ];
  for (const [frame, why] of bad) {
    const [e] = rpc(r, p, frame);
    assert.is(e.id, 3);
    assert.is(e.error.code, -32602, frame);
    assert.ok(e.error.message.includes(why), e.error.message);
  }
  assert.is(r.app.settings.device_name, "Porch");
  assert.equal(JSON.parse(r.board.saved!), set.result);
  // a notification: applied, not answered
  assert.equal(rpc(r, p, '{"method":"settings.set","params":{"led":false}}'), []);
  assert.is(r.board.led_on, false);
  // reboot: answered first, done after the answer has gone
  assert.equal(rpc(r, p, '{"id":4,"method":"reboot"}'), [{ id: 4, result: true }]);
  assert.is(r.board.reboots, 0);
  r.net.advance(400);
  r.net.poll(r.mgr, 2);
  assert.is(r.board.reboots, 1);
  done(r);
});

test("JSON-RPC over the WebSocket: unknown methods, bad frames; the socket stays up and keeps its metrics", () => {
  const r = rig();
  const t = login(r);
  const p = ws_open(r, t);
  assert.equal(rpc(r, p, '{"id":1,"method":"format.disk"}'), [{ id: 1, error: { code: -32601, message: "format.disk not found" } }]);
  assert.equal(rpc(r, p, "hello"), [{ error: { code: -32700, message: "hello" } }]);
  assert.equal(rpc(r, p, '{"id":2,"method":"settings.get"'), [{ id: 2, error: { code: -32700, message: '{"id":2,"method":"settings.get"' } }]);
  assert.equal(rpc(r, p, "[]"), [{ error: { code: -32600, message: "Invalid Request" } }]);
  assert.equal(rpc(r, p, '{"id":9,"result":1}'), [], "a response is not answered");
  const big = '{"id":5,"method":"settings.set","params":{"device_name":"' + "n".repeat(1500) + '"}}';
  const [e] = rpc(r, p, big);
  assert.is(e.error.code, -32602, "a long frame is read whole (one message up to MG_IO_SIZE)");
  // still the dashboard's WebSocket: the next tick pushes metrics
  r.net.advance(1000);
  r.net.poll(r.mgr, 2);
  assert.ok(frames(p.recv_str()).some((m) => m.startsWith('{"t":"m"')));
  done(r);
});

// --- the clock (SNTP) -----------------------------------------------------------------

const T_SERVER = Date.UTC(2024, 4, 1, 12, 0, 0, 0);

/** The next SNTP request the server at srv has, after polling up to n times step ms apart; null if none came. */
function sntp_request(r: Rig, srv: mg_mock_peer, n: number, step: number): Uint8Array | null {
  for (let i = 0; i < n; i++) {
    const d = srv.recvfrom();
    if (d !== null) return d;
    r.net.poll(r.mgr, 1, step);
  }
  return srv.recvfrom();
}
function sntp_answer(r: Rig, srv: mg_mock_peer, req: Uint8Array, o: ReplyOpts): void {
  const c = r.app.sntp_conn;
  assert.ok(c !== null, "an exchange in flight");
  assert.ok(srv.sendto(c!.loc.port, ntp_reply(req, o)));
  r.net.poll(r.mgr, 2);
}

test("the clock: the board's SNTP server is asked at start, the time is in the metrics, hourly after that; failures back off", () => {
  assert.is(mg_boot_timestamp(), 0, "no suite above sets the clock");
  const r = rig(undefined, "udp://127.0.0.1:123");
  const srv = r.net.udp(123);
  r.net.keep_log = true;
  const t = login(r);
  assert.is(JSON.parse(get(r, "/api/settings", cookie(t)).body).sntp, "udp://127.0.0.1:123", "the board's default");
  assert.is(JSON.parse(get(r, "/api/stats", cookie(t)).body).time, 0, "not synced yet");
  let req = sntp_request(r, srv, 5, 1);
  assert.ok(req !== null, "asked at start");
  sntp_answer(r, srv, req!, opts(T_SERVER));
  const time = JSON.parse(get(r, "/api/stats", cookie(t)).body).time;
  assert.ok(time >= T_SERVER && time < T_SERVER + 1000, `${time - T_SERVER}`);
  assert.ok(r.net.log_text.includes("clock set by SNTP: 2024-05-01T12:00:00"), r.net.log_text);
  // the next sync an hour later, not before
  assert.is(sntp_request(r, srv, 3590, 1000), null);
  req = sntp_request(r, srv, 20, 1000);
  assert.ok(req !== null, "an hour later");
  // a Kiss-o'-Death: asked again after a minute
  sntp_answer(r, srv, req!, opts(T_SERVER, (o) => ((o.stratum = 0), (o.refid = "RATE"))));
  assert.ok(r.net.log_text.includes("kiss-o'-death RATE"));
  assert.is(sntp_request(r, srv, 55, 1000), null);
  req = sntp_request(r, srv, 10, 1000);
  assert.ok(req !== null, "a minute later");
  // no answer at all: the client's own retries (3 s, 6 s, 12 s), then two minutes
  let n = 0;
  while (sntp_request(r, srv, 30, 1000) !== null) n++;
  assert.is(n, 2, "two retries by the client");
  assert.is(sntp_request(r, srv, 80, 1000), null, "then quiet for two minutes");
  assert.ok(sntp_request(r, srv, 60, 1000) !== null);
  done(r);
});

test("the clock: the sntp setting moves to another server at once; an empty one stops asking", () => {
  const r = rig(undefined, "udp://127.0.0.1:123");
  const a = r.net.udp(123);
  const b = r.net.udp(1123);
  const t = login(r);
  assert.ok(sntp_request(r, a, 5, 1) !== null);
  assert.is(post(r, "/api/settings", '{"sntp":"udp://127.0.0.1:1123"}', cookie(t)).status, 200);
  const req = sntp_request(r, b, 5, 1);
  assert.ok(req !== null, "the new server, at once");
  sntp_answer(r, b, req!, opts(T_SERVER + 5000));
  assert.ok(Math.abs(JSON.parse(get(r, "/api/stats", cookie(t)).body).time - (T_SERVER + 5000)) < 1000);
  assert.is(post(r, "/api/settings", '{"sntp":""}', cookie(t)).status, 200);
  assert.is(sntp_request(r, a, 100, 60000) ?? sntp_request(r, b, 1, 1), null, "nobody asked for 100 minutes");
  done(r);
});

test.run();
