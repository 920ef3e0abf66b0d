// The README's quick start, as a user runs it: `npm start -- --app echo`
// starts the echo app on the host simulator in its own process; a TCP client
// (what nc does), a UDP client, an HTTP client and an HTTPS client (trusting
// the certificate the simulator made at its first start) get their bytes back.
// And the first five minutes around it: every listener on 127.0.0.1 unless
// --host says otherwise; a port already taken ends the launcher with status 1
// and the system's reason (EADDRINUSE), not a banner over nothing; a bad
// option ends it with status 2 before anything starts; --help and the README
// list every option.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, ChildProcess } from "node:child_process";
import net from "node:net";
import dgram from "node:dgram";
import https from "node:https";
import { readFileSync } from "node:fs";

/** A base port with base, base+1 (TCP), base+2 (UDP) and base+3 (TCP) free on 127.0.0.1. */
async function free_ports(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const ok = await new Promise<boolean>((resolve) => {
      const a = net.createServer();
      const b = net.createServer();
      const c = net.createServer();
      const u = dgram.createSocket("udp4");
      let left = 4;
      let good = true;
      const done = (fine: boolean) => {
        good &&= fine;
        if (--left === 0) {
          a.close();
          b.close();
          c.close();
          u.close();
          resolve(good);
        }
      };
      a.once("error", () => done(false)).listen(base, "127.0.0.1", () => done(true));
      b.once("error", () => done(false)).listen(base + 1, "127.0.0.1", () => done(true));
      u.once("error", () => done(false)).bind(base + 2, "127.0.0.1", () => done(true));
      c.once("error", () => done(false)).listen(base + 3, "127.0.0.1", () => done(true));
    });
    if (ok) return base;
  }
  throw new Error("no free ports");
}

function tcp_echo(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let got = 0;
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`tcp echo: ${got} of ${data.length} bytes back`));
    }, 10000);
    s.on("connect", () => s.write(data));
    s.on("data", (d) => {
      chunks.push(d);
      got += d.length;
      if (got >= data.length) {
        clearTimeout(t);
        s.end();
        resolve(Buffer.concat(chunks));
      }
    });
    s.on("error", reject);
  });
}

function udp_echo(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const u = dgram.createSocket("udp4");
    const t = setTimeout(() => {
      u.close();
      reject(new Error("udp echo: no answer"));
    }, 5000);
    u.on("message", (m) => {
      clearTimeout(t);
      u.close();
      resolve(m);
    });
    u.send(data, port, "127.0.0.1");
  });
}

interface Run {
  p: ChildProcess;
  out: () => string;
  /** Resolves with the exit code, or rejects after ms with what was printed. */
  exit(ms: number): Promise<number>;
  /** Resolves once the output matches re; rejects when the process ends first or after ms. */
  until(re: RegExp, ms: number): Promise<void>;
}

/** Every launcher started here, stopped at the end whatever happened (one that should have exited may not have). */
const started: ChildProcess[] = [];

/** `node tools/start.mjs args` (what `npm start -- args` runs). */
function start(args: string[]): Run {
  const p = spawn(process.execPath, ["tools/start.mjs", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  started.push(p);
  let out = "";
  p.stdout!.on("data", (d) => (out += d));
  p.stderr!.on("data", (d) => (out += d));
  const ended = new Promise<number>((resolve) => p.on("exit", (code, sig) => resolve(code ?? (sig ? 128 : -1))));
  const deadline = <T>(ms: number, what: string, work: Promise<T>): Promise<T> => {
    let t: NodeJS.Timeout;
    const late = new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`${what} within ${ms} ms; output:\n${out}`)), ms)));
    return Promise.race([work, late]).finally(() => clearTimeout(t));
  };
  return {
    p,
    out: () => out,
    exit: (ms) => deadline(ms, `start.mjs ${args.join(" ")}: no exit`, ended),
    until: (re, ms) =>
      deadline(ms, `start.mjs ${args.join(" ")}: no ${re}`, new Promise<void>((resolve, reject) => {
        const check = () => {
          if (re.test(out)) resolve();
          else if (p.exitCode !== null) reject(new Error(`start.mjs ${args.join(" ")} exited ${p.exitCode} before ${re}:\n${out}`));
          else setTimeout(check, 20);
        };
        check();
      })),
  };
}

/** The local addresses (hex, as the kernel lists them) of the sockets bound to port in /proc/net/{tcp,tcp6,udp,udp6}. */
function bound(port: number, proto: "tcp" | "udp"): string[] {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const found: string[] = [];
  for (const f of [`/proc/net/${proto}`, `/proc/net/${proto}6`]) {
    let text = "";
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue; // no IPv6 here
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      // TCP: the listening socket (state 0A), not connections the tests made
      if (local !== undefined && local.endsWith(":" + hex) && (proto === "udp" || cols[3] === "0A")) found.push(local.split(":")[0]);
    }
  }
  return found;
}
const LOOPBACK = "0100007F"; // 127.0.0.1 as /proc/net/tcp writes it

let app: Run | null = null;
let base = 0;

test.before(async () => {
  base = await free_ports();
  // no --host: the default
  app = start(["--app", "echo", "--port", String(base)]);
  await app.until(/mgts: ready echo/, 60000); // start.mjs compiles first when build/ is stale
});

test.after(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
});

test("TCP echo (what `nc 127.0.0.1 <port+1>` does): 100 KB back intact", async () => {
  const data = Buffer.alloc(100000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 255;
  const back = await tcp_echo(base + 1, data);
  assert.ok(back.equals(data));
});

test("UDP echo: a datagram comes back to its sender", async () => {
  const back = await udp_echo(base + 2, Buffer.from("ping over udp"));
  assert.is(back.toString(), "ping over udp");
});

test("HTTP: GET / answers hi, as mg_hello does", async () => {
  const r = await fetch(`http://127.0.0.1:${base}/`);
  assert.is(r.status, 200);
  assert.is((await r.text()).trim(), "hi");
});

test("HTTPS on port + 3, with the certificate made at the first start (build/tls/cert.pem), verified", async () => {
  const ca = readFileSync("build/tls/cert.pem");
  const body = await new Promise<string>((resolve, reject) => {
    const q = https.request({ host: "127.0.0.1", servername: "localhost", port: base + 3, path: "/echo", method: "POST", ca, timeout: 10000 }, (r) => {
      let b = "";
      r.on("data", (d) => (b += d));
      r.on("end", () => resolve(b));
    });
    q.on("error", reject);
    q.on("timeout", () => q.destroy(new Error("no answer")));
    q.end("hello over https");
  });
  assert.is(body, "hello over https");
});

test("without --host every listener is on 127.0.0.1 only: HTTP, raw TCP, UDP and HTTPS (the kernel's socket table says so)", () => {
  assert.match(app!.out(), `mgts: listening tcp port ${base}\nmgts: listening tcp port ${base + 1}\nmgts: listening udp port ${base + 2}\nmgts: listening tcp port ${base + 3}\n`);
  for (const [port, proto] of [[base, "tcp"], [base + 1, "tcp"], [base + 2, "udp"], [base + 3, "tcp"]] as const) {
    assert.equal(bound(port, proto), [LOOPBACK], `${proto} port ${port}`);
  }
});

test("the port taken: the dashboard exits with status 1 and EADDRINUSE, and prints no banner", async () => {
  const taken = net.createServer();
  await new Promise<void>((ok) => taken.listen(0, "127.0.0.1", ok));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    const r = start(["--port", String(port), "--data", "build/start-test-data"]);
    assert.is(await r.exit(30000), 1, r.out());
    assert.match(r.out(), `mgts: dashboard: tcp 127.0.0.1 port ${port}: listener failed: EADDRINUSE: address already in use`);
    assert.not.match(r.out(), "Device dashboard:");
    assert.not.match(r.out(), "mgts: ready");
  } finally {
    taken.close();
  }
});

test("the echo app's UDP port taken: status 1, the UDP listener named with its reason", async () => {
  const b = await free_ports();
  const taken = dgram.createSocket("udp4");
  await new Promise<void>((ok) => taken.bind(b + 2, "127.0.0.1", ok));
  try {
    const r = start(["--app", "echo", "--port", String(b)]);
    assert.is(await r.exit(30000), 1, r.out());
    assert.match(r.out(), `mgts: echo: udp 127.0.0.1 port ${b + 2}: listener failed: EADDRINUSE: address already in use`);
    assert.not.match(r.out(), "mgts: ready");
  } finally {
    taken.close();
  }
});

test("a bad option stops the launcher with status 2 and says why, before anything listens", async () => {
  const cases: [string[], string][] = [
    [["--port", "abc"], "--port abc: a number from 0 to 65535 is expected"],
    [["--port", "65536"], "--port 65536: a number from 0 to 65535 is expected"],
    [["--port", "-1"], "--port -1: a number from 0 to 65535 is expected"],
    [["--port"], "--port needs a value"],
    [["--host", "localhost"], "--host localhost: an IP address is expected"],
    [["--app", "nope"], "--app nope: one of dashboard, echo, http-server"],
    [["--root", "web"], "--root is an option of http-server, not of dashboard"],
    [["--app", "http-server", "--upload", "/tmp"], "--upload goes with --root"],
    [["--verbose"], "unknown option --verbose"],
  ];
  for (const [args, why] of cases) {
    const r = start(args);
    assert.is(await r.exit(30000), 2, args.join(" ") + ": " + r.out());
    assert.match(r.out(), why);
    assert.not.match(r.out(), "mgts: ready");
  }
});

test("--help lists every option, and the README has each of them", async () => {
  const r = start(["--help"]);
  assert.is(await r.exit(30000), 0);
  const names = [...r.out().matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]);
  for (const must of ["app", "port", "host", "hal", "user", "pass", "data", "tls", "cert", "key", "root", "upload"]) assert.ok(names.includes(must), `--${must} in --help`);
  const readme = readFileSync("README.md", "utf8");
  for (const n of names) assert.match(readme, new RegExp(`--${n}\\b`), `--${n} in the README`);
});

test.run();
