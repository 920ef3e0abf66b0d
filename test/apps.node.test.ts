// The echo and http-server apps on the host simulator (hal/node, in this
// process, the way `npm start -- --app ...` runs them), against the shared
// loopback suites of test/apps_suite.ts, which the Moddable tier runs
// against the same apps built for lin (test/apps.moddable.test.ts).
import { suite } from "uvu";
import { mg_hal_node } from "../hal/node.js";
import { mg_hal_default, mg_mgr, mg_mgr_free } from "../src/net.js";
import { main as echo } from "../firmware/echo/main.js";
import { main as http_server } from "../firmware/http-server/main.js";
import { until } from "./hal_suite.js";
import { echo_suite, http_server_suite, type echo_target, type http_server_target } from "./apps_suite.js";
import { free_ports } from "./moddable.js";

mg_hal_default(mg_hal_node());

const e = suite("echo app on the host simulator");
let echo_mgr: mg_mgr | null = null;
let et: echo_target = { http: 0, tcp: 0, udp: 0 };
e.before(async () => {
  const base = await free_ports();
  echo_mgr = echo({ port: base, host: "127.0.0.1" });
  et = { http: base, tcp: base + 1, udp: base + 2 };
});
e.after(() => {
  if (echo_mgr !== null) mg_mgr_free(echo_mgr);
});
echo_suite(e, () => et);
e.run();

const h = suite("http-server app on the host simulator");
let site_mgr: mg_mgr | null = null;
let ht: http_server_target = { port: 0 };
h.before(async () => {
  site_mgr = http_server({ port: 0, host: "127.0.0.1" });
  const l = site_mgr.conns!;
  await until(() => l.loc.port !== 0);
  ht = { port: l.loc.port };
});
h.after(() => {
  if (site_mgr !== null) mg_mgr_free(site_mgr);
});
http_server_suite(h, () => ht);
h.run();
