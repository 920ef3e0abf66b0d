// The README's quick start, as a user runs it: `npm start -- --app echo`
// starts the echo app on the host simulator in its own process; a TCP client
// (what nc does), a UDP client, an HTTP client and an HTTPS client (trusting
// the certificate the simulator made at its first start) get their bytes back.
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

let app: ChildProcess | null = null;
let base = 0;

test.before(async () => {
  base = await free_ports();
  app = spawn(process.execPath, ["tools/start.mjs", "--app", "echo", "--port", String(base), "--host", "127.0.0.1"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  app.stdout!.on("data", (d) => (out += d));
  app.stderr!.on("data", (d) => (out += d));
  const end = Date.now() + 60000; // start.mjs compiles first
  while (!/HTTPS and WSS on|no HTTPS/.test(out)) {
    if (Date.now() > end || app.exitCode !== null) throw new Error("the echo app did not start:\n" + out);
    await new Promise((r) => setTimeout(r, 50));
  }
});

test.after(() => {
  app?.kill("SIGKILL");
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

test.run();
