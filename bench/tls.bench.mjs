// TLS on the host (hal/node over node:tls), next to plaintext and next to
// Node's own TLS, in the same run (certificates from test/tls_certs.ts,
// RSA 2048, made by openssl):
//  1. Handshake time: a node:tls client connecting to the simulator's TLS
//     listener, and to a node:tls server (peer), until a first byte is
//     echoed (both ends done); the mgts client connecting to a node:tls
//     server, until MG_EV_TLS_HS (verified). Sequential connections, medians.
//  2. 1 KB echo round trips per second over TLS and over plain TCP, through
//     the echo app's TCP handler (firmware/echo), and through a node:tls echo
//     server (peer).
//  3. Bulk: 8 MB streamed through the same echo, TLS and plain, MB/s.
//  4. XS heap slots per 1 KB echo round trip over a TLS connection through
//     the mock network's TLS double (bench/net_xs.ts, setup(true)). Goal: 0.
import net from "node:net";
import tls from "node:tls";
import { median, xs_bundle, xs_count } from "../tools/xs.mjs";

const { make_certs } = await import("../build/test/tls_certs.js");
const core = await import("../build/src/index.js");
const { mg_hal_node } = await import("../build/hal/node.js");
const { echo_tcp } = await import("../build/firmware/echo/main.js");
const C = make_certs();
core.mg_log_set(core.MG_LL_ERROR);

const HANDSHAKES = 200;
const ROUNDTRIPS = 3000;
const BULK = 8 << 20;

function until(cond, ms = 20000) {
  return new Promise((ok, fail) => {
    const end = Date.now() + ms;
    const tick = () => (cond() ? ok() : Date.now() > end ? fail(new Error("timed out")) : setTimeout(tick, 1));
    tick();
  });
}

async function mgts_listener(mgr, url, fn) {
  const c = core.mg_listen(mgr, url, fn, null);
  await until(() => c.loc.port !== 0);
  return c.loc.port;
}

function node_server(secure) {
  const on = (s) => {
    s.setNoDelay(true);
    s.on("data", (d) => s.write(d));
    s.on("error", () => {});
  };
  const srv = secure ? tls.createServer({ key: C.key, cert: C.server }, on) : net.createServer(on);
  return new Promise((ok) => srv.listen(0, "127.0.0.1", () => ok(srv)));
}

/** A connected client: node:tls verifying the test CA, or plain node:net. */
function connect(port, secure) {
  return new Promise((ok, fail) => {
    const s = secure ? tls.connect({ port, host: "127.0.0.1", servername: "localhost", ca: C.ca }) : net.connect(port, "127.0.0.1");
    s.setNoDelay(true);
    s.once(secure ? "secureConnect" : "connect", () => ok(s));
    s.once("error", fail);
  });
}

/** ms per connection: connect, handshake, one byte echoed (so the server has finished too); n sequential ones, median. */
async function handshakes(port, n) {
  const t = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const s = await connect(port, true);
    await new Promise((ok) => {
      s.once("data", ok);
      s.write("x");
    });
    t.push(performance.now() - t0);
    s.end();
  }
  return median(t);
}

/** ms from mg_connect to MG_EV_TLS_HS, n sequential connections of the mgts client (median). */
async function mgts_handshakes(mgr, port, n) {
  const t = [];
  for (let i = 0; i < n; i++) {
    let done = 0;
    const t0 = performance.now();
    core.mg_connect(mgr, `tls://localhost:${port}`, (c, ev) => {
      if (ev === core.MG_EV_CONNECT) core.mg_tls_init(c, { ca: C.ca });
      if (ev === core.MG_EV_TLS_HS) {
        t.push(performance.now() - t0);
        c.is_closing = true;
        done = 1;
      }
      if (ev === core.MG_EV_ERROR) done = -1;
    }, null);
    await until(() => done !== 0);
    if (done < 0) throw new Error("mgts handshake failed");
  }
  return median(t);
}

/** 1 KB round trips per second on a connected socket. */
function pingpong(s, n) {
  return new Promise((ok) => {
    const payload = Buffer.alloc(1024, 7);
    let got = 0;
    let left = n;
    const t0 = performance.now();
    s.on("data", (d) => {
      got += d.length;
      while (got >= 1024) {
        got -= 1024;
        if (--left === 0) return ok((n / (performance.now() - t0)) * 1000);
        s.write(payload);
      }
    });
    s.write(payload);
  });
}

/** MB/s of n bytes written and echoed back. */
function bulk(s, n) {
  return new Promise((ok) => {
    const chunk = Buffer.alloc(64 * 1024, 5);
    let got = 0;
    let sent = 0;
    const t0 = performance.now();
    s.on("data", (d) => {
      got += d.length;
      if (got >= n) ok(n / 1048576 / ((performance.now() - t0) / 1000));
    });
    const pump = () => {
      while (sent < n) {
        sent += chunk.length;
        if (!s.write(chunk)) return void s.once("drain", pump);
      }
    };
    pump();
  });
}

async function host_figures() {
  const mgr = new core.mg_mgr();
  core.mg_mgr_init(mgr, mg_hal_node());
  core.mg_mgr_run(mgr, 1000);
  const opts = { cert: C.server, key: C.key };
  const tls_port = await mgts_listener(mgr, "tls://127.0.0.1:0", (c, ev, d) => {
    if (ev === core.MG_EV_ACCEPT) core.mg_tls_init(c, opts);
    echo_tcp(c, ev);
  });
  const tcp_port = await mgts_listener(mgr, "tcp://127.0.0.1:0", echo_tcp);
  const node_tls = await node_server(true);
  const node_port = node_tls.address().port;
  const r = { hs_mg: [], hs_node: [], hs_client: [], rt_tls: [], rt_tcp: [], rt_node: [], bulk_tls: [], bulk_tcp: [], bulk_node: [] };
  // interleaved rounds, medians: this machine is noisy
  for (let round = 0; round < 3; round++) {
    r.hs_mg.push(await handshakes(tls_port, HANDSHAKES));
    r.hs_node.push(await handshakes(node_port, HANDSHAKES));
    r.hs_client.push(await mgts_handshakes(mgr, node_port, HANDSHAKES / 2));
    for (const [key, port, secure] of [["tls", tls_port, true], ["tcp", tcp_port, false], ["node", node_port, true]]) {
      let s = await connect(port, secure);
      r["rt_" + key].push(await pingpong(s, ROUNDTRIPS));
      s.destroy();
      s = await connect(port, secure);
      r["bulk_" + key].push(await bulk(s, BULK));
      s.destroy();
    }
  }
  core.mg_mgr_free(mgr);
  node_tls.close();
  const m = {};
  for (const k of Object.keys(r)) m[k] = median(r[k]);
  return m;
}

async function xs_figures() {
  const code = await xs_bundle("build/bench/net_xs.js");
  const r = await xs_count(code, "mgts_xs.setup(true); mgts_xs.roundtrips(200);", "mgts_xs.roundtrips", 2000, 'print("errors " + mgts_xs.errors());');
  return { ...r, errors: Number(/errors (\d+)/.exec(r.out)[1]) };
}

const h = await host_figures();
const xs = await xs_figures();
C.remove();
const f = (x, d = 0) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(`| measurement (host, 127.0.0.1, RSA 2048, TLS 1.3) | value |
|---|---|
| connect + handshake + 1-byte echo, node:tls client → simulator TLS listener (median of ${HANDSHAKES}) | ${f(h.hs_mg, 2)} ms |
| connect + handshake + 1-byte echo, node:tls client → node:tls echo server (peer) | ${f(h.hs_node, 2)} ms |
| handshake, mgts client → node:tls server, mg_connect to MG_EV_TLS_HS | ${f(h.hs_client, 2)} ms |
| 1 KB echo round trips/s, simulator over TLS | ${f(h.rt_tls)} |
| 1 KB echo round trips/s, simulator over plain TCP | ${f(h.rt_tcp)} |
| 1 KB echo round trips/s, node:tls echo server (peer) | ${f(h.rt_node)} |
| TLS / plain, simulator round trips | ${f(h.rt_tls / h.rt_tcp, 2)} |
| bulk echo (8 MB), simulator over TLS | ${f(h.bulk_tls, 1)} MB/s |
| bulk echo (8 MB), simulator over plain TCP | ${f(h.bulk_tcp, 1)} MB/s |
| bulk echo (8 MB), node:tls echo server (peer) | ${f(h.bulk_node, 1)} MB/s |
| XS heap slots per 1 KB echo round trip over TLS (mock network's TLS double, 2,000 after warm-up) | **${xs.slots}** (${xs.raw} in all) |
| echo errors (XS) | ${xs.errors} |`);
process.exit(xs.errors > 0 ? 1 : 0);
