// The pool under abuse over real loopback sockets (issue 10), Node only: the
// http-server app on the simulator (hal/node), while 10x its pool drip heads
// and bodies (test/abuse.ts, which can be pointed at any host:port), normal
// clients are answered within 2 s, every time: on the host pool
// (MG_MAX_CONNS) and on a board's pool of 8.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_hal_node } from "../hal/node.js";
import { MG_MAX_CONNS } from "../src/config.js";
import { mg_mgr, mg_mgr_free, mg_mgr_init, mg_mgr_run } from "../src/net.js";
import { mg_http_listen } from "../src/http.js";
import { mg_log_set } from "../src/log.js";
import { mg_fs_packed } from "../src/fs.js";
import { http_server, http_server_app } from "../firmware/http-server/main.js";
import { web_files } from "../firmware/http-server/web.js";
import { until } from "./hal_suite.js";
import { abuse } from "./abuse.js";

const hal = mg_hal_node();

/** The http-server app on 127.0.0.1 (a free port) with a pool of `pool` connections. */
async function start(pool: number): Promise<{ mgr: mg_mgr; port: number }> {
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, hal);
  mg_log_set(1); // errors only: "accept: N evicted in the last second..." would be one line a second
  if (pool < MG_MAX_CONNS) {
    let c = mgr.free;
    for (let i = 1; i < pool && c !== null; i++) c = c.pool_next;
    if (c !== null) c.pool_next = null;
  }
  const app = new http_server_app();
  app.opts.fs = new mg_fs_packed(web_files());
  app.mgr = mgr;
  const l = mg_http_listen(mgr, "http://127.0.0.1:0", http_server as any, app);
  assert.ok(l !== null, "listening");
  mg_mgr_run(mgr, 50);
  assert.ok(await until(() => l!.loc.port !== 0, 3000), "the listener is bound within 3 s");
  return { mgr, port: l!.loc.port };
}

const REQUESTS = [
  "GET /api/stats HTTP/1.1\r\nHost: dev\r\n\r\n",
  'POST /api/sum HTTP/1.1\r\nHost: dev\r\nContent-Length: 13\r\n\r\n{"a":1,"b":2}',
  "GET / HTTP/1.1\r\nHost: dev\r\n\r\n",
];

for (const [what, pool] of [["a board's pool of 8", 8], ["the host pool", MG_MAX_CONNS]] as [string, number][]) {
  test(`loopback, ${what}: while ${10 * pool} connections drip heads and bodies, every normal client is answered within 2 s`, async () => {
    const { mgr, port } = await start(pool);
    try {
      const r = await abuse("127.0.0.1", port, { attackers: 10 * pool, requests: REQUESTS, path: "/api/sum" });
      const line = JSON.stringify(r);
      assert.ok(r.clients >= 50, "clients: " + line);
      assert.is(r.answered, r.clients, "every normal client answered within 2 s: " + line);
      assert.ok(r.attacker_closes > 10 * pool, "the attackers held no slot for long: " + line);
      console.log(`  ${what}: ${r.clients} clients, median ${r.median_ms} ms, worst ${r.worst_ms} ms; ${r.attacker_connects} attacker connects`);
    } finally {
      mg_mgr_free(mgr);
    }
  });
}

test.run();
