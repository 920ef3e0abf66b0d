// The pool under abuse on Moddable (issue 10's target on lin): the
// http-server app built for lin (the sim board: a pool of 8, as the ESP32
// boards) on Moddable's own sockets, while 10x the pool drip heads and
// bodies (test/abuse.ts), every normal client is answered within 2 s.
// Runs in the Moddable tier of npm test (test/run.mjs), with the SDK.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { abuse } from "./abuse.js";
import { moddable_build, moddable_start, type moddable_app_t } from "./moddable.js";

const POOL = 8; // boards/sim/config.json MG_MAX_CONNS

test(`lin, a pool of ${POOL}: while ${10 * POOL} connections drip heads and bodies, every normal client is answered within 2 s`, async () => {
  const b = await moddable_build({ config: { app: "http-server", port: 0 } });
  let app: moddable_app_t | null = null;
  try {
    app = await moddable_start(b.so!);
    const r = await abuse("127.0.0.1", app.ports.tcp[0], {
      attackers: 10 * POOL,
      requests: ["GET /api/stats HTTP/1.1\r\nHost: dev\r\n\r\n", 'POST /api/sum HTTP/1.1\r\nHost: dev\r\nContent-Length: 13\r\n\r\n{"a":1,"b":2}'],
      path: "/api/sum",
    });
    const line = JSON.stringify(r);
    assert.ok(r.clients >= 50, "clients: " + line);
    assert.is(r.answered, r.clients, "every normal client answered within 2 s: " + line);
    assert.ok(r.attacker_closes > 10 * POOL, "the attackers held no slot for long: " + line);
    console.log(`  lin: ${r.clients} clients, median ${r.median_ms} ms, worst ${r.worst_ms} ms; ${r.attacker_connects} attacker connects`);
  } finally {
    await app?.stop();
  }
});

test.run();
