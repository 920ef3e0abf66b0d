// hal/node over real sockets on 127.0.0.1: the shared socket tests
// (test/hal_suite.ts) and the Node HAL's address helpers. Node-only.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fill_addr, ip_str, mg_hal_node } from "../hal/node.js";
import { addr, hal_suite } from "./hal_suite.js";

test("address strings", () => {
  const a = addr();
  assert.ok(fill_addr(a, "10.1.2.3", 80));
  assert.equal([a.is_ip6, a.ip[0], a.ip[3], a.port], [false, 10, 3, 80]);
  assert.is(ip_str(a), "10.1.2.3");
  assert.ok(fill_addr(a, "::ffff:127.0.0.1", 1)); // what a dual-stack socket reports
  assert.equal([a.is_ip6, a.ip[0], a.ip[3], a.ip[12]], [false, 127, 1, 0]);
  assert.ok(fill_addr(a, "fe80::1:2%3", 0));
  assert.equal([a.is_ip6, a.ip[0], a.ip[1], a.ip[13], a.ip[15], a.scope_id], [true, 0xfe, 0x80, 1, 2, 3]);
  assert.is(ip_str(a), "fe80:0:0:0:0:0:1:2%3");
  assert.ok(fill_addr(a, "::1", 0));
  assert.equal([a.is_ip6, a.ip[15]], [true, 1]);
  assert.ok(fill_addr(a, "1:2:3:4:5:6:7:8", 0));
  assert.is(a.ip[15], 8);
  assert.ok(fill_addr(a, "64:ff9b::1.2.3.4", 0));
  assert.equal([a.ip[1], a.ip[12], a.ip[15]], [0x64, 1, 4]);
  assert.not.ok(fill_addr(a, "1::2::3", 0));
  assert.not.ok(fill_addr(a, "1.2.3", 0));
  assert.not.ok(fill_addr(a, "", 0));
});

test.run();

// Loopback absorbs about 4 MB (kernel buffers) before writable() drops to 0: 8 MB makes it.
hal_suite("hal/node", mg_hal_node(), { local_addr: true, udp_queue: 64, bulk: 8 << 20 });
