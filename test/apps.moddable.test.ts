// The echo and http-server apps as mcconfig builds them for lin (release),
// run under `xvfb-run -a mcsim` on Moddable's own ECMA-419 sockets, against
// the same loopback suites the host simulator gets (test/apps_suite.ts).
// Runs in the Moddable tier of npm test (test/run.mjs), with the SDK.
import { suite } from "uvu";
import { echo_suite, http_server_suite, type echo_target, type http_server_target } from "./apps_suite.js";
import { free_ports, moddable_build, moddable_start, type moddable_app_t } from "./moddable.js";

const e = suite("echo app on Moddable (lin)");
let echo: moddable_app_t | null = null;
let et: echo_target = { http: 0, tcp: 0, udp: 0 };
e.before(async () => {
  // lin's UDP socket cannot tell which port 0 picked: three free ones, checked
  const base = await free_ports();
  const b = await moddable_build({ config: { app: "echo", port: base } });
  echo = await moddable_start(b.so!);
  et = { http: echo.ports.tcp[0], tcp: echo.ports.tcp[1], udp: echo.ports.udp[0] };
});
e.after(async () => {
  await echo?.stop();
});
echo_suite(e, () => et);
e.run();

const h = suite("http-server app on Moddable (lin)");
let site: moddable_app_t | null = null;
let ht: http_server_target = { port: 0 };
h.before(async () => {
  const b = await moddable_build({ config: { app: "http-server", port: 0 } });
  site = await moddable_start(b.so!);
  ht = { port: site.ports.tcp[0] };
});
h.after(async () => {
  await site?.stop();
});
http_server_suite(h, () => ht);
h.run();
