// The echo app's /ws over real loopback, with the npm `ws` library as the
// client: every message comes back with its type, whatever its size, through
// MG_IO_SIZE buffers (the app takes messages in pieces and sends them back as
// fragments). Node only; everything opened is closed after each test.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { WebSocket } from "ws";
import { mg_hal_node } from "../hal/node.js";
import { next_message, until } from "./ws_util.js";
import { MG_IO_SIZE } from "../src/config.js";
import { mg_mgr, mg_mgr_free, mg_mgr_init, mg_mgr_run } from "../src/net.js";
import { mg_http_listen } from "../src/http.js";
import { echo_http } from "../firmware/echo/main.js";

const live: { mgr: mg_mgr | null; sockets: WebSocket[] } = { mgr: null, sockets: [] };

test.after.each(() => {
  for (const s of live.sockets) s.terminate();
  if (live.mgr !== null) mg_mgr_free(live.mgr);
  live.mgr = null;
  live.sockets = [];
});

/** The app's HTTP handler on a free loopback port. */
async function start(): Promise<number> {
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, mg_hal_node());
  live.mgr = mgr;
  const l = mg_http_listen(mgr, "http://127.0.0.1:0", echo_http, null)!;
  assert.ok(l);
  mg_mgr_run(mgr, 50);
  assert.ok(await until(() => l.loc.port !== 0));
  return l.loc.port;
}

async function connect(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false, maxPayload: 1 << 24 });
  live.sockets.push(ws);
  await new Promise<void>((ok, fail) => {
    ws.once("open", () => ok());
    ws.once("error", fail);
  });
  return ws;
}

function payload(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * seed + (i >> 9)) & 255;
  return b;
}

test("echo /ws: binary and text of any size come back whole with their type (MG_IO_SIZE " + MG_IO_SIZE + ")", async () => {
  const port = await start();
  const ws = await connect(port);
  for (const n of [0, 1, 125, MG_IO_SIZE - 1, MG_IO_SIZE + 1, 65536, 65537, 1 << 20]) {
    const b = payload(n, 31);
    ws.send(b, { binary: true });
    const m = await next_message(ws);
    assert.ok(m.binary, "binary " + n);
    assert.ok(m.data.equals(b), "binary bytes " + n);
    const s = "ünïcödé 😀 ".repeat(Math.ceil(n / 20)).slice(0, Math.ceil(n / 2));
    ws.send(s);
    const t = await next_message(ws);
    assert.not.ok(t.binary, "text " + n);
    assert.is(t.data.toString(), s, "text " + n);
  }
});

test("echo /ws: a fragmented message, several clients at once, and a clean close", async () => {
  const port = await start();
  const a = await connect(port);
  const b = await connect(port);
  a.send("frag", { fin: false });
  a.send(payload(100000, 3).toString("latin1"), { fin: true });
  b.send(payload(150000, 5), { binary: true });
  const [ma, mb] = await Promise.all([next_message(a), next_message(b)]);
  assert.is(ma.data.toString(), "frag" + payload(100000, 3).toString("latin1"));
  assert.not.ok(ma.binary);
  assert.ok(mb.data.equals(payload(150000, 5)));
  const closed = new Promise<number>((ok) => a.once("close", (code) => ok(code)));
  a.close(1000);
  assert.is(await closed, 1000);
  b.send("still here");
  assert.is((await next_message(b)).data.toString(), "still here");
});

test.run();
