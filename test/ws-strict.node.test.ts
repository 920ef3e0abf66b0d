// WebSocket protocol errors over real loopback (issue 11): a client that
// keeps sending after its bad frame and reads late must still get the close
// code. Closing a TCP socket with unread bytes makes the kernel send a reset,
// which can destroy the close frame before the peer reads it; mgts lingers
// after the error until the peer's close instead. Node only.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { mg_hal_node } from "../hal/node.js";
import { mg_mgr, mg_mgr_free, mg_mgr_init, mg_mgr_run } from "../src/net.js";
import { mg_http_listen } from "../src/http.js";
import { echo_http } from "../firmware/echo/main.js";
import { until } from "./ws_util.js";

const UPGRADE =
  "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/** A masked client frame with a 64-bit length (the payload is zeros, masked with a zero key). */
function big_frame(op: number, n: number): Buffer {
  const f = Buffer.alloc(14 + n);
  f[0] = 0x80 | op;
  f[1] = 0x80 | 127;
  f.writeUInt32BE(n, 6);
  return f;
}

/**
 * Upgrades, then sends a continuation with no message started (1002) and
 * 4 MB of frames after it without reading, reads only after a pause, then
 * answers the close as a client does. Resolves with what came back after the 101.
 */
function one(port: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    let got = Buffer.alloc(0);
    let upgraded = false;
    let answered = false;
    const timer = setTimeout(() => s.destroy(), 10000);
    s.on("data", (d) => {
      got = Buffer.concat([got, d]);
      if (!upgraded) {
        const i = got.indexOf("\r\n\r\n");
        if (i < 0) return;
        upgraded = true;
        got = got.subarray(i + 4);
        s.write(Buffer.from([0x00, 0x85, 1, 2, 3, 4, 9, 9, 9, 9, 9])); // a continuation with nothing to continue
        for (let k = 0; k < 64; k++) s.write(big_frame(2, 65536));
        s.pause();
        setTimeout(() => s.resume(), 300);
      }
      if (!answered && got.length >= 2 && got[0] === 0x88) {
        answered = true;
        s.write(Buffer.from([0x88, 0x82, 0, 0, 0, 0, 3, 234])); // the client's close
      }
    });
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(timer);
      resolve(got);
    });
    s.write(UPGRADE);
  });
}

test("a client that keeps sending after its bad frame still gets close 1002, every time", async () => {
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, mg_hal_node());
  const l = mg_http_listen(mgr, "http://127.0.0.1:0", echo_http, null)!;
  mg_mgr_run(mgr, 50);
  try {
    assert.ok(await until(() => l.loc.port !== 0));
    for (let i = 0; i < 8; i++) {
      const got = await one(l.loc.port);
      assert.equal([...got.subarray(0, 4)], [0x88, 2, 3, 234], `run ${i}: ${got.subarray(0, 16).toString("hex")}`);
    }
  } finally {
    mg_mgr_free(mgr);
  }
});

test.run();
