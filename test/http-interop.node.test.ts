// HTTP interop over real loopback (hal/node): curl and Node's fetch against
// the mgts server (the echo app's /echo, the http-server app over a real
// folder, 6.x multipart part events), and the mgts client against node:http.
// Node only. Every peer is started here and stopped here; every wait has a
// deadline, every curl a --max-time and a kill timer.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { mg_hal_node } from "../hal/node.js";
import { mg_fs_node } from "../hal/fs_node.js";
import {
  MG_EV_ACCEPT,
  MG_EV_CONNECT,
  MG_EV_ERROR,
  MG_EV_HTTP_HDRS,
  MG_EV_HTTP_MSG,
  mg_connection,
  mg_mgr,
  mg_mgr_free,
  mg_mgr_init,
  mg_mgr_run,
  mg_printf,
  mg_send,
  mg_set_timeout,
} from "../src/net.js";
import {
  MG_EV_HTTP_CHUNK,
  MG_EV_HTTP_MULTIPART_REQUEST_END,
  MG_EV_HTTP_PART_BEGIN,
  MG_EV_HTTP_PART_DATA,
  MG_EV_HTTP_PART_END,
  mg_http_connect,
  mg_http_listen,
  mg_http_message,
  mg_http_multipart_part,
  mg_http_reply,
  mg_http_status,
  mg_http_stream_body,
  mg_set_protocol_http_websocket,
} from "../src/http.js";
import { mg_crc32 } from "../src/util.js";
import { until, within } from "./hal_suite.js";
import { echo_http } from "../firmware/echo/main.js";
import { http_server, http_server_app } from "../firmware/http-server/main.js";

const CURL = "/usr/bin/curl";
const hal = mg_hal_node();
const mgr = new mg_mgr();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mgts-http-"));
const www = path.join(tmp, "www");
const uploads = path.join(tmp, "uploads");
const BIG = randomBytes(300000);
const APP_JS = "console.log('hello from a real file');\n".repeat(20);
let echo_port = 0;
let site_port = 0;
let up6_port = 0;
let accepts = 0; // on the echo listener


interface CurlResult {
  code: number | null;
  out: Buffer;
  err: string;
}

/** Runs curl with a deadline of its own and ours. */
function curl(args: string[], timeout_ms = 30000): Promise<CurlResult> {
  return new Promise((resolve) => {
    const p = spawn(CURL, ["-sS", "--max-time", String(Math.floor(timeout_ms / 1000) - 2), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    p.stdout.on("data", (d) => out.push(d));
    p.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), timeout_ms);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out: Buffer.concat(out), err });
    });
  });
}

/** The 6.x multipart receiver: a CRC-32 and a size per part, answered as JSON at the end. */
interface PartInfo {
  name: string;
  file: string;
  size: number;
  crc: number;
  status: number;
}
function upload6(c: mg_connection, ev: number, d: any): void {
  if (ev === MG_EV_HTTP_PART_BEGIN) {
    const p = d as mg_http_multipart_part;
    if (p.user_data === null) p.user_data = [] as PartInfo[];
    p.user_data.push({ name: String(p.var_name), file: String(p.file_name), size: 0, crc: 0, status: 1 });
  } else if (ev === MG_EV_HTTP_PART_DATA) {
    const p = d as mg_http_multipart_part;
    const cur = p.user_data[p.user_data.length - 1] as PartInfo;
    cur.crc = mg_crc32(cur.crc, p.data.buf, p.data.ofs, p.data.len);
    cur.size += p.data.len;
  } else if (ev === MG_EV_HTTP_PART_END) {
    const p = d as mg_http_multipart_part;
    p.user_data[p.user_data.length - 1].status = p.status;
  } else if (ev === MG_EV_HTTP_MULTIPART_REQUEST_END) {
    const p = d as mg_http_multipart_part;
    mg_http_reply(c, 200, "Content-Type: application/json\r\n", JSON.stringify(p.user_data ?? []));
  }
}

test.before(async () => {
  fs.mkdirSync(path.join(www, "sub"), { recursive: true });
  fs.mkdirSync(uploads);
  fs.writeFileSync(path.join(www, "index.html"), "<h1>real folder</h1>");
  fs.writeFileSync(path.join(www, "sub", "index.html"), "sub");
  fs.writeFileSync(path.join(www, "ten.txt"), "0123456789");
  fs.writeFileSync(path.join(www, "big.bin"), BIG);
  fs.writeFileSync(path.join(www, "app.js"), APP_JS);
  fs.writeFileSync(path.join(www, "app.js.gz"), zlib.gzipSync(APP_JS));
  fs.writeFileSync(path.join(tmp, "secret.txt"), "outside the web root");

  mg_mgr_init(mgr, hal);
  const echo = mg_http_listen(mgr, "http://127.0.0.1:0", (c, ev, d) => {
    if (ev === MG_EV_ACCEPT) accepts++;
    echo_http(c, ev, d);
  }, null)!;
  const app = new http_server_app();
  app.opts.fs = mg_fs_node();
  app.opts.root_dir = www;
  app.upload_dir = uploads;
  app.max_upload = 4 << 20;
  const site = mg_http_listen(mgr, "http://127.0.0.1:0", http_server as any, app)!;
  const up6 = mg_http_listen(mgr, "http://127.0.0.1:0", upload6, null)!;
  mg_set_protocol_http_websocket(up6);
  mg_mgr_run(mgr, 50);
  assert.ok(await until(() => echo.loc.port !== 0 && site.loc.port !== 0 && up6.loc.port !== 0), "listeners bound");
  echo_port = echo.loc.port;
  site_port = site.loc.port;
  up6_port = up6.loc.port;
});

test.after(() => {
  mg_mgr_free(mgr);
  fs.rmSync(tmp, { recursive: true, force: true });
});

// --- curl ----------------------------------------------------------------------

test("curl: keep-alive (three requests, one connection), any method answered as mg_hello", async () => {
  const before = accepts;
  const base = `http://127.0.0.1:${echo_port}`;
  const r = await curl([`${base}/a`, `${base}/b?x=1`, `${base}/c`]);
  assert.is(r.code, 0, r.err);
  assert.is(r.out.toString(), "hi\nhi\nhi\n");
  assert.is(accepts - before, 1, "one connection for all three");
  const del = await curl(["-X", "DELETE", `${base}/anything`]);
  assert.is(del.out.toString(), "hi\n");
});

test("curl: /echo streams back a body of any size — Content-Length (with Expect: 100-continue) and chunked", async () => {
  const file = path.join(tmp, "body.bin");
  const body = randomBytes(3 << 20);
  fs.writeFileSync(file, body);
  const url = `http://127.0.0.1:${echo_port}/echo`;
  const a = await curl(["--data-binary", `@${file}`, url]);
  assert.is(a.code, 0, a.err);
  assert.is(a.out.length, body.length);
  assert.ok(a.out.equals(body), "every byte back");
  const b = await curl(["-H", "Transfer-Encoding: chunked", "--data-binary", `@${file}`, url]);
  assert.is(b.code, 0, b.err);
  assert.ok(b.out.equals(body), "chunked upload, every byte back");
});

test("curl: multipart form with a file through the 6.x part events, CRC-32 per part", async () => {
  const file = path.join(tmp, "fw.bin");
  const data = randomBytes(2 << 20);
  fs.writeFileSync(file, data);
  const r = await curl(["-F", "note=hello world", "-F", `fw=@${file};filename=fw.bin`, "-F", "empty=", `http://127.0.0.1:${up6_port}/upload`]);
  assert.is(r.code, 0, r.err);
  const parts = JSON.parse(r.out.toString()) as PartInfo[];
  assert.equal(parts.map((p) => [p.name, p.file, p.size, p.status]), [
    ["note", "", 11, 0],
    ["fw", "fw.bin", data.length, 0],
    ["empty", "", 0, 0],
  ]);
  assert.is(parts[0].crc, zlib.crc32("hello world"));
  assert.is(parts[1].crc, zlib.crc32(data), "every byte of the file");
});

test("curl: a real folder — index, 301, ranges, 416, gzip, ETag/304, traversal refused, big file", async () => {
  const base = `http://127.0.0.1:${site_port}`;
  assert.is((await curl([`${base}/`])).out.toString(), "<h1>real folder</h1>");
  const moved = await curl(["-i", `${base}/sub`]);
  assert.match(moved.out.toString(), /^HTTP\/1.1 301 [^]*Location: \/sub\/\r\n/);
  assert.is((await curl(["-L", `${base}/sub`])).out.toString(), "sub");
  assert.is((await curl(["-r", "2-4", `${base}/ten.txt`])).out.toString(), "234");
  assert.is((await curl(["-r", "-3", `${base}/ten.txt`])).out.toString(), "789");
  assert.is((await curl(["-r", "7-", `${base}/ten.txt`])).out.toString(), "789");
  const bad = await curl(["-r", "20-30", "-o", "/dev/null", "-w", "%{http_code}", `${base}/ten.txt`]);
  assert.is(bad.out.toString(), "416");
  const gz = await curl(["--compressed", "-D", "-", `${base}/app.js`]);
  const text = gz.out.toString();
  assert.match(text, /Content-Encoding: gzip/);
  assert.ok(text.endsWith(APP_JS), "curl decompressed the .gz to the original");
  const head = (await curl(["-I", `${base}/ten.txt`])).out.toString();
  const etag = /Etag: (".*")/i.exec(head)![1];
  const nm = await curl(["-H", `If-None-Match: ${etag}`, "-o", "/dev/null", "-w", "%{http_code}", `${base}/ten.txt`]);
  assert.is(nm.out.toString(), "304");
  for (const p of ["/../secret.txt", "/%2e%2e/secret.txt", "/sub/..%2f..%2fsecret.txt"]) {
    const t = await curl(["--path-as-is", "-w", "%{http_code}", `${base}${p}`]);
    assert.is(t.out.toString(), "Invalid path\n400", p);
  }
  const big = await curl([`${base}/big.bin`]);
  assert.ok(big.out.equals(BIG), "300 KB through a 2 KB buffer");
});

test("curl: streamed upload through the http-server app's /api/upload, then served back", async () => {
  const file = path.join(tmp, "up.bin");
  const data = randomBytes(1500000);
  fs.writeFileSync(file, data);
  const base = `http://127.0.0.1:${site_port}`;
  const r = await curl(["--data-binary", `@${file}`, `${base}/api/upload?file=up.bin&offset=0`]);
  assert.is(r.code, 0, r.err);
  assert.is(r.out.toString(), String(data.length));
  assert.ok(fs.readFileSync(path.join(uploads, "up.bin")).equals(data), "the file on disk");
  const refused = await curl(["--data-binary", `@${file}`, "-w", "%{http_code}", `${base}/api/upload?file=../x&offset=0`]);
  assert.match(refused.out.toString(), /invalid file name\n400$/);
  const sum = await curl(["-d", '{"a":2,"b":40}', `${base}/api/sum`]);
  assert.is(sum.out.toString(), '{"result":42}\n');
});

// --- fetch ----------------------------------------------------------------------

test("fetch: keep-alive, a streamed (chunked) upload, FormData multipart, Range", async () => {
  const base = `http://127.0.0.1:${echo_port}`;
  const before = accepts;
  for (let i = 0; i < 5; i++) assert.is(await within(fetch(`${base}/k${i}`).then((r) => r.text()), 10000, "fetch /k" + i), "hi\n");
  // undici opens a second connection for the second request while it still
  // releases the first (node:http sees the same two), then reuses both
  assert.ok(accepts - before <= 2, "fetch reused its connections: " + (accepts - before));

  const body = randomBytes(500000);
  const stream = new ReadableStream({
    start(ctl) {
      for (let i = 0; i < body.length; i += 65536) ctl.enqueue(body.subarray(i, i + 65536));
      ctl.close();
    },
  });
  const res = await within(fetch(`${base}/echo`, { method: "POST", body: stream, duplex: "half" } as any), 10000, "fetch POST /echo");
  const back = Buffer.from(await within(res.arrayBuffer(), 10000, "the /echo body"));
  assert.ok(back.equals(body), "streamed upload echoed back");

  const form = new FormData();
  form.append("field", "value");
  const blob = randomBytes(100000);
  form.append("file", new Blob([blob]), "data.bin");
  const parts = (await within(fetch(`http://127.0.0.1:${up6_port}/up`, { method: "POST", body: form }).then((r) => r.json()), 10000, "fetch multipart /up")) as PartInfo[];
  assert.equal(parts.map((p) => [p.name, p.file, p.size]), [["field", "", 5], ["file", "data.bin", blob.length]]);
  assert.is(parts[1].crc, zlib.crc32(blob));

  const range = await within(fetch(`http://127.0.0.1:${site_port}/big.bin`, { headers: { Range: "bytes=100000-100009" } }), 10000, "fetch a range");
  assert.is(range.status, 206);
  assert.is(range.headers.get("content-range"), `bytes 100000-100009/${BIG.length}`);
  assert.ok(Buffer.from(await within(range.arrayBuffer(), 10000, "the range body")).equals(BIG.subarray(100000, 100010)));
});

// --- the mgts client against node:http ------------------------------------------------

test("mgts client vs node:http: Content-Length, chunked, until close (HTTP/1.0), a POST, a large streamed reply, a timeout", async () => {
  const big = randomBytes(1 << 20);
  const srv = http.createServer((req, res) => {
    if (req.url === "/len") res.end("hello");
    else if (req.url === "/chunked") {
      res.write("abc");
      setTimeout(() => res.end("defg"), 20);
    } else if (req.url === "/close") res.end("until close");
    else if (req.url === "/big") res.end(big);
    else if (req.url === "/post") {
      let n = 0;
      req.on("data", (d) => (n += d.length));
      req.on("end", () => res.end(`got ${n}`));
    } else if (req.url === "/never") {
      // no answer: the client's timeout must fire
    } else res.writeHead(404).end();
  });
  await within(new Promise<void>((r) => srv.listen(0, "127.0.0.1", r)), 5000, "node:http listening");
  const port = (srv.address() as AddressInfo).port;

  function get(uri: string, req: string, stream = false): Promise<string> {
    return new Promise((resolve) => {
      let crc = 0;
      let n = 0;
      let result = "";
      const c = mg_http_connect(mgr, `http://127.0.0.1:${port}${uri}`, (c, ev, d) => {
        if (ev === MG_EV_CONNECT) mg_printf(c, "%s", req);
        else if (ev === MG_EV_HTTP_HDRS && stream) mg_http_stream_body(c);
        else if (ev === MG_EV_HTTP_CHUNK) {
          const hm = d as mg_http_message;
          crc = mg_crc32(crc, hm.chunk.buf, hm.chunk.ofs, hm.chunk.len);
          n += hm.chunk.len;
        } else if (ev === MG_EV_HTTP_MSG) {
          const hm = d as mg_http_message;
          result = stream ? `${mg_http_status(hm)} ${n} ${crc}` : `${mg_http_status(hm)} ${String(hm.body)}`;
          c.is_draining = true;
        } else if (ev === MG_EV_ERROR) result = `error ${d}`;
        else if (ev === 9 /* MG_EV_CLOSE */) resolve(result);
      }, null)!;
      mg_set_timeout(c, 3000);
    });
  }
  try {
    assert.is(await get("/len", `GET /len HTTP/1.1\r\nHost: x\r\n\r\n`), "200 hello");
    assert.is(await get("/chunked", `GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n`), "200 abcdefg");
    assert.is(await get("/close", `GET /close HTTP/1.0\r\n\r\n`), "200 until close");
    assert.is(await get("/post", `POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n12345`), "200 got 5");
    assert.is(await get("/big", `GET /big HTTP/1.1\r\nHost: x\r\n\r\n`, true), `200 ${big.length} ${zlib.crc32(big)}`, "1 MB through a 2 KB buffer");
    assert.is(await get("/never", `GET /never HTTP/1.1\r\nHost: x\r\n\r\n`), "error timeout");
  } finally {
    srv.closeAllConnections();
    await within(new Promise<void>((r) => srv.close(() => r())), 5000, "node:http closed");
  }
});

test("a raw socket speaking nonsense to the server gets 400 and is closed; the server goes on", async () => {
  const net = await import("node:net");
  const reply = await new Promise<string>((resolve) => {
    const s = net.connect(echo_port, "127.0.0.1", () => s.write("GET / HTTP/1.1\r\nBad Header\r\n\r\n"));
    let got = "";
    s.on("data", (d) => (got += d));
    s.on("close", () => resolve(got));
    s.setTimeout(3000, () => s.destroy());
  });
  assert.match(reply, /^HTTP\/1.1 400 Bad Request\r\n/, "400 within 3 s: " + JSON.stringify(reply));
  assert.is((await curl([`http://127.0.0.1:${echo_port}/`])).out.toString(), "hi\n");
});

test.run();
