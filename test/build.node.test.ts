// The build folds src/config.ts: a feature switched off is not in the bundle.
// Bundles build/src/index.js (tsc's output, made by npm test first) with the
// same plugin rollup.config.js uses, for several configs.
import { test } from "uvu";
import * as assert from "uvu/assert";

// rollup.config.js sits at the top, beside build/ where this file runs from
const { bundle_api: bundle } = await import(new URL("../../rollup.config.js", import.meta.url).href);

test("every feature on: HTTP, WebSocket, SNTP, RPC and logging are in the bundle", async () => {
  const all = await bundle({});
  assert.ok(all.includes("function mg_http_parse"));
  assert.ok(all.includes("function mg_ws_send"));
  assert.ok(all.includes("function mg_hexdump"));
});

test("MG_ENABLE_WS false drops WebSocket; MG_ENABLE_HTTP false drops HTTP and WebSocket", async () => {
  const all = await bundle({});
  const no_ws = await bundle({ MG_ENABLE_WS: false });
  const no_http = await bundle({ MG_ENABLE_HTTP: false });
  assert.not.ok(no_ws.includes("function mg_ws_send"));
  assert.ok(no_ws.includes("function mg_http_parse"));
  assert.not.ok(no_http.includes("function mg_http_parse"));
  assert.not.ok(no_http.includes("function mg_ws_send"));
  assert.ok(no_ws.length < all.length && no_http.length < no_ws.length, `${all.length} > ${no_ws.length} > ${no_http.length}`);
});

test("MG_ENABLE_SNTP false drops SNTP (so does MG_ENABLE_UDP false), MG_ENABLE_RPC false drops JSON-RPC; mg_now stays", async () => {
  const all = await bundle({});
  assert.ok(all.includes("function mg_sntp_connect"));
  assert.ok(all.includes("function mg_rpc_process"));
  const no_sntp = await bundle({ MG_ENABLE_SNTP: false });
  const no_udp = await bundle({ MG_ENABLE_UDP: false });
  const no_rpc = await bundle({ MG_ENABLE_RPC: false });
  for (const b of [no_sntp, no_udp]) {
    assert.not.ok(b.includes("function mg_sntp_connect"));
    assert.not.ok(b.includes("kiss-o'-death"));
    assert.ok(b.includes("function mg_now"), "the wall clock is the core's");
  }
  assert.ok(no_sntp.includes("function mg_rpc_process"));
  assert.not.ok(no_rpc.includes("function mg_rpc_process"));
  assert.not.ok(no_rpc.includes("Invalid Request"));
  assert.ok(no_rpc.includes("function mg_sntp_connect"));
  assert.ok(no_sntp.length < all.length && no_rpc.length < all.length, `${all.length} > ${no_sntp.length}, ${no_rpc.length}`);
});

test("MG_ENABLE_TLS false drops TLS from the core: mg_tls_init stays, and TLS URLs fail with 'TLS not available'", async () => {
  const all = await bundle({});
  const off = await bundle({ MG_ENABLE_TLS: false });
  for (const s of ["function tls_params", "function tls_start", "function tls_handshake", "too many TLS connections", "TLS handshake timeout"]) {
    assert.ok(all.includes(s), s);
    assert.not.ok(off.includes(s), s);
  }
  assert.ok(off.includes("function mg_tls_init"), "apps that call it still build");
  assert.ok(off.includes("TLS not available"));
  assert.ok(off.length < all.length, `${off.length} < ${all.length}`);
});

test("MG_ENABLE_MQTT false drops MQTT (client, codec, broker); MQTT stays without WebSocket, minus MQTT over WebSocket", async () => {
  const all = await bundle({});
  const no_mqtt = await bundle({ MG_ENABLE_MQTT: false });
  const no_ws = await bundle({ MG_ENABLE_WS: false });
  for (const f of ["function mg_mqtt_parse", "function mg_mqtt_pub", "class mg_mqtt_broker"]) {
    assert.ok(all.includes(f), f);
    assert.not.ok(no_mqtt.includes(f), f);
    assert.ok(no_ws.includes(f), `${f} without WebSocket`);
  }
  assert.not.ok(no_ws.includes("function mg_ws_wrap"), "no WebSocket code for MQTT over WebSocket");
  assert.ok(no_mqtt.length < all.length, `${no_mqtt.length} < ${all.length}`);
});

test("MG_ENABLE_LOG false and MG_ENABLE_HEXDUMP false shrink the core", async () => {
  const base = await bundle({ MG_ENABLE_HTTP: false });
  const quiet = await bundle({ MG_ENABLE_HTTP: false, MG_ENABLE_LOG: false, MG_ENABLE_HEXDUMP: false });
  assert.ok(quiet.length < base.length, `${quiet.length} < ${base.length}`);
});

test("MG_ENABLE_LOG false compiles the log calls out of the core, not just silences them", async () => {
  const calls = (code: string) => (code.match(/\bMG_(ERROR|INFO|DEBUG|VERBOSE)\(/g) ?? []).length;
  const on = await bundle({ MG_ENABLE_HTTP: false });
  const off = await bundle({ MG_ENABLE_HTTP: false, MG_ENABLE_LOG: false });
  assert.ok(calls(on) > 10, `${calls(on)} call sites with logging on`);
  assert.is(calls(off), 4, "only the four (empty) definitions are left");
});

test("an unknown constant is a build error, not a silent no-op", async () => {
  let err = "";
  try {
    await bundle({ MG_NO_SUCH_THING: 1 });
  } catch (e) {
    err = String(e);
  }
  assert.match(err, /no constant MG_NO_SUCH_THING/);
});

test.run();
