// The mock network's TLS: a test double that behaves as TLS does where the
// core can tell (hal/mock.ts wires it to its sockets; mg_hal.tls()).
//
// - The bytes really travel: records with TLS's 5-byte header (type, 3.3,
//   length) through the sockets' queues; a peer that is not TLS is caught by
//   the first bytes it sends, as OpenSSL catches it ("wrong version").
// - The handshake takes TLS 1.2's two round trips: ClientHello; ServerHello,
//   Certificate, (CertificateRequest), Done; the client's (Certificate),
//   KeyExchange, Finished; the server's Finished. One flight per side each
//   time a socket is polled, so it takes polls, not one call.
// - It fails in each way the real ones do, with the causes of hal/hal.ts:
//   unknown CA, wrong host name, expired (or not yet valid) certificate,
//   handshake failure (no shared cipher suite, a key that does not match the
//   certificate, a peer's alert), a peer that is not TLS, a close during the
//   handshake, a missing client certificate. The refusing side sends the
//   alert TLS would send, and the other side reports it.
// - Application bytes exist only after the handshake: writable() is 0 and
//   readable() is 0 before it, and an application record that arrives
//   before it fails the handshake. After it, records are scrambled with a
//   session key so that plaintext never crosses the mock's wire.
//
// Certificates and keys are text the helpers below make (PEM-shaped, so
// they pass where PEM does): mg_mock_cert({subject: "localhost", issuer:
// "Test CA"}), mg_mock_key("k1"). A CA is a certificate with ca: true.
// Validity is checked against mg_mock.tls_wall + the virtual clock.

export const REC_ALERT = 21;
export const REC_HS = 22;
export const REC_APP = 23;
const HS_CH = 1;
const HS_SH = 2;
const HS_CERT = 11;
const HS_CREQ = 13;
const HS_DONE = 14;
const HS_CKE = 16;
const HS_FIN = 20;
const AL_CLOSE = 0;
const AL_UNEXPECTED = 10;
const AL_HANDSHAKE = 40;
const AL_BAD_CERT = 42;
const AL_EXPIRED = 45;
const AL_UNKNOWN_CA = 48;
const AL_CERT_REQUIRED = 116;
/** Largest plaintext in one record (TLS's 2^14). */
export const MAX_RECORD = 16384;

import {
  TLS_CLOSED,
  TLS_EXPIRED,
  TLS_HANDSHAKE,
  TLS_NOT_TLS,
  TLS_NOT_YET_VALID,
  TLS_NO_CLIENT_CERT,
  TLS_REJECTED,
  TLS_UNKNOWN_CA,
  TLS_WRONG_NAME,
} from "./hal.js";

/** What mg_mock_cert makes a certificate of. */
export interface mg_mock_cert_opts {
  /** The names it is for: "localhost", "a.example,127.0.0.1", "*.example". */
  subject: string;
  /** The CA that signed it (a CA's subject); default: itself (self-signed). */
  issuer?: string;
  /** The id of its private key (mg_mock_key); default "k-" + subject. */
  key?: string;
  /** Valid from, to: epoch ms; default 0 and the year 2100. */
  from?: number;
  to?: number;
  /** A CA certificate. */
  ca?: boolean;
}

/** A mock certificate: PEM-shaped text. */
export function mg_mock_cert(o: mg_mock_cert_opts): string {
  const body =
    "mock subject=" + o.subject + ";issuer=" + (o.issuer ?? o.subject) + ";key=" + (o.key ?? "k-" + o.subject) +
    ";from=" + (o.from ?? 0) + ";to=" + (o.to ?? 4102444800000) + ";ca=" + (o.ca === true ? 1 : 0);
  return "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n";
}

/** A mock private key with this id. */
export function mg_mock_key(id: string): string {
  return "-----BEGIN PRIVATE KEY-----\nmock key=" + id + "\n-----END PRIVATE KEY-----\n";
}

/** A parsed mock certificate. */
export class MockCert {
  names: string[] = [];
  subject = "";
  issuer = "";
  key = "";
  from = 0;
  to = 0;
  ca = false;
}

function text(b: Uint8Array | string | null, ofs = 0, len = -1): string {
  if (b === null) return "";
  if (typeof b === "string") return b;
  const end = len < 0 ? b.length : ofs + len;
  let s = "";
  for (let i = ofs; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** Every "mock subject=..." line of a PEM bundle, parsed. */
export function mock_certs(b: Uint8Array | string | null): MockCert[] {
  const out: MockCert[] = [];
  for (const line of text(b).split("\n")) {
    if (line.slice(0, 5) !== "mock " || line.indexOf("subject=") < 0) continue;
    const c = new MockCert();
    for (const kv of line.slice(5).split(";")) {
      const eq = kv.indexOf("=");
      const k = kv.slice(0, eq);
      const v = kv.slice(eq + 1);
      if (k === "subject") c.subject = v;
      else if (k === "issuer") c.issuer = v;
      else if (k === "key") c.key = v;
      else if (k === "from") c.from = Number(v);
      else if (k === "to") c.to = Number(v);
      else if (k === "ca") c.ca = v === "1";
    }
    c.names = c.subject.toLowerCase().split(",");
    out.push(c);
  }
  return out;
}

function key_id(b: Uint8Array | string | null): string {
  const m = /mock key=([^\s]*)/.exec(text(b));
  return m === null ? "" : m[1];
}

/** What possession of a key proves in the mock: a hash of its id. */
function proof(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function name_ok(names: string[], want: string): boolean {
  const w = want.toLowerCase();
  for (const n of names) {
    if (n === w) return true;
    // one wildcard label: *.example matches a.example, not a.b.example
    if (n.slice(0, 2) === "*." && w.indexOf(".") > 0 && w.slice(w.indexOf(".")) === n.slice(1)) return true;
  }
  return false;
}

/** A byte queue as the mock's sockets hold them: a ring of len bytes from head. */
export interface TlsRing {
  rx: Uint8Array;
  head: number;
  len: number;
}

function at(q: TlsRing, i: number): number {
  return q.rx[(q.head + i) % q.rx.length];
}
function drop(q: TlsRing, n: number): void {
  q.head = (q.head + n) % q.rx.length;
  q.len -= n;
  if (q.len === 0) q.head = 0;
}
function put(q: TlsRing, b: number): void {
  q.rx[(q.head + q.len) % q.rx.length] = b;
  q.len++;
}

/** Options of one side of a mock TLS connection (mg_hal_tls, plus what a test peer may set). */
export interface MockTlsOpts {
  server?: boolean;
  ca?: Uint8Array | string | null;
  cert?: Uint8Array | string | null;
  key?: Uint8Array | string | null;
  name?: string;
  skip_verification?: boolean;
  /** Cipher suites offered (client) or accepted (server), comma-separated; default the mock's tls_suites. */
  suites?: string;
}

/** One side's TLS state; made once per mock socket, reused. */
export class MockTls {
  on = false;
  server = false;
  /** 0 handshaking, 1 open, -1 failed (err says why). */
  st = 0;
  err = "";
  /** The peer sent close_notify. */
  eof = false;
  /** Handshake progress: 0 before the peer's first flight, 1 after ours answering it. */
  stage = 0;
  trusted: MockCert[] = [];
  own: MockCert | null = null;
  key = "";
  name = "";
  skip = false;
  suites = "";
  ask_cert = false; // server: asks for a client certificate; client: was asked
  peer_cert: MockCert | null = null;
  got_cert = false;
  rnd = new Uint8Array(16); // client's 8 random bytes, then the server's: the session key
  seq_in = 0;
  seq_out = 0;
  rec: Uint8Array; // one record's payload
  app: TlsRing; // plaintext received, not yet read
  constructor(size: number) {
    this.rec = new Uint8Array(MAX_RECORD + 256);
    this.app = { rx: new Uint8Array(size), head: 0, len: 0 };
  }

  /** Starts this side; the client sends its ClientHello into out. */
  start(o: MockTlsOpts, suites: string, roots: string, rng: { random(b: Uint8Array, ofs: number, n: number): void }, out: TlsRing | null): void {
    this.on = true;
    this.server = o.server === true;
    this.st = 0;
    this.err = "";
    this.eof = false;
    this.stage = 0;
    this.trusted = mock_certs(o.ca ?? (this.server ? null : roots));
    const own = mock_certs(o.cert ?? null);
    this.own = own.length > 0 ? own[0] : null;
    this.key = key_id(o.key ?? null);
    this.name = o.name ?? "";
    this.skip = o.skip_verification === true;
    this.suites = o.suites ?? suites;
    this.ask_cert = this.server && o.ca != null && !this.skip;
    this.peer_cert = null;
    this.got_cert = false;
    this.seq_in = this.seq_out = 0;
    this.app.head = this.app.len = 0;
    rng.random(this.rnd, this.server ? 8 : 0, 8);
    if (!this.server) this.send_hs(out, HS_CH, this.hello(this.suites + "|" + this.name));
  }

  off(): void {
    this.on = false;
    this.app.head = this.app.len = 0;
  }

  /** The ClientHello / ServerHello body: our 8 random bytes, then text. */
  hello(s: string): string {
    const o = this.server ? 8 : 0;
    let b = "";
    for (let i = 0; i < 8; i++) b += String.fromCharCode(this.rnd[o + i]);
    return b + s;
  }

  fail(why: string, out: TlsRing | null, alert: number): void {
    if (this.st < 0) return;
    this.st = -1;
    this.err = why;
    if (alert >= 0 && out !== null) this.send(out, REC_ALERT, 2, alert);
  }

  /** Writes a record of two bytes: an alert (level, description). */
  send(out: TlsRing | null, type: number, a: number, b: number): void {
    if (out === null || out.rx.length - out.len < 7) return;
    put(out, type);
    put(out, 3);
    put(out, 3);
    put(out, 0);
    put(out, 2);
    put(out, a);
    put(out, b);
  }

  /** Writes a handshake message: type, 2-byte length, body (Latin-1 text). */
  send_hs(out: TlsRing | null, type: number, body: string): void {
    const n = body.length + 3;
    if (out === null || out.rx.length - out.len < n + 5) return;
    put(out, REC_HS);
    put(out, 3);
    put(out, 3);
    put(out, n >> 8);
    put(out, n & 255);
    put(out, type);
    put(out, body.length >> 8);
    put(out, body.length & 255);
    for (let i = 0; i < body.length; i++) put(out, body.charCodeAt(i) & 255);
  }

  /**
   * Takes the complete records in q (what the peer sent): the handshake's
   * next flight, alerts, and while open application data into app, as much
   * as fits. Answers go into out (the peer's queue). peer_gone: the peer
   * closed or reset, nothing more will come.
   */
  step(q: TlsRing, out: TlsRing | null, wall: number, peer_gone: boolean): void {
    while (this.on && this.st >= 0 && q.len > 0) {
      const type = at(q, 0);
      if ((type !== REC_ALERT && type !== REC_HS && type !== REC_APP) || (q.len > 1 && at(q, 1) !== 3)) {
        // OpenSSL's "wrong version number": the peer speaks something else
        this.fail(TLS_NOT_TLS + " (not a TLS record)", out, -1);
        return;
      }
      if (q.len < 5) break;
      const n = (at(q, 3) << 8) | at(q, 4);
      if (n > this.rec.length) return this.fail(TLS_HANDSHAKE + " (record overflow)", out, AL_UNEXPECTED);
      if (q.len < 5 + n) break;
      if (type === REC_APP && this.st === 1 && this.app.rx.length - this.app.len < n) break; // the reader is behind
      drop(q, 5);
      for (let i = 0; i < n; i++) this.rec[i] = at(q, i);
      drop(q, n);
      if (type === REC_ALERT) this.alert(n >= 2 ? this.rec[1] : AL_UNEXPECTED);
      else if (type === REC_APP) {
        if (this.st !== 1) return this.fail(TLS_HANDSHAKE + " (data before the handshake)", out, AL_UNEXPECTED);
        this.unscramble(n);
      } else this.handshake(n, out, wall);
    }
    if (this.on && this.st === 0 && peer_gone) this.fail(TLS_CLOSED, null, -1);
  }

  alert(a: number): void {
    if (a === AL_CLOSE) {
      if (this.st === 1) this.eof = true;
      else this.fail(TLS_CLOSED, null, -1);
      return;
    }
    const names: Record<number, string> = { 42: "bad certificate", 45: "certificate expired", 48: "unknown ca", 116: "certificate required" };
    if (this.st === 1) this.fail("TLS: alert " + a, null, -1);
    else if (names[a] !== undefined) this.fail(TLS_REJECTED + " (" + names[a] + ")", null, -1);
    else this.fail(TLS_HANDSHAKE + (a === AL_HANDSHAKE ? " (alert: handshake failure)" : " (alert " + a + ")"), null, -1);
  }

  handshake(n: number, out: TlsRing | null, wall: number): void {
    const type = this.rec[0];
    const body = text(this.rec, 3, n - 3);
    if (this.st === 1 || n < 3) return this.fail(TLS_HANDSHAKE + " (unexpected message)", out, AL_UNEXPECTED);
    if (this.server) this.server_msg(type, body, out, wall);
    else this.client_msg(type, body, out, wall);
  }

  server_msg(type: number, body: string, out: TlsRing | null, wall: number): void {
    if (this.stage === 0) {
      if (type !== HS_CH) return this.fail(TLS_HANDSHAKE + " (unexpected message)", out, AL_UNEXPECTED);
      for (let i = 0; i < 8; i++) this.rnd[i] = body.charCodeAt(i);
      const bar = body.indexOf("|", 8);
      const offered = body.slice(8, bar).split(",");
      let suite = "";
      for (const s of this.suites.split(",")) if (suite === "" && offered.indexOf(s) >= 0) suite = s;
      if (suite === "") return this.fail(TLS_HANDSHAKE + " (no shared cipher)", out, AL_HANDSHAKE);
      if (this.own === null || this.key === "") return this.fail(TLS_HANDSHAKE + " (no certificate)", out, AL_HANDSHAKE);
      this.send_hs(out, HS_SH, this.hello(suite));
      this.send_hs(out, HS_CERT, mg_mock_cert_line(this.own));
      if (this.ask_cert) this.send_hs(out, HS_CREQ, "");
      this.send_hs(out, HS_DONE, String(proof(this.key)));
      this.stage = 1;
      return;
    }
    if (type === HS_CERT) {
      const c = mock_certs(body);
      this.got_cert = true;
      this.peer_cert = c.length > 0 ? c[0] : null;
      if (this.ask_cert && this.peer_cert === null) return this.fail(TLS_NO_CLIENT_CERT, out, AL_CERT_REQUIRED);
      if (this.ask_cert) this.verify(this.peer_cert!, false, wall, out, " (client)");
    } else if (type === HS_CKE) {
      if (this.ask_cert && !this.got_cert) return this.fail(TLS_NO_CLIENT_CERT, out, AL_CERT_REQUIRED);
      if (this.peer_cert !== null && body !== String(proof(this.peer_cert.key))) return this.fail(TLS_HANDSHAKE + " (bad signature)", out, AL_HANDSHAKE);
    } else if (type === HS_FIN) {
      this.send_hs(out, HS_FIN, "");
      this.st = 1;
    } else this.fail(TLS_HANDSHAKE + " (unexpected message)", out, AL_UNEXPECTED);
  }

  client_msg(type: number, body: string, out: TlsRing | null, wall: number): void {
    if (this.stage === 1) {
      if (type !== HS_FIN) return this.fail(TLS_HANDSHAKE + " (unexpected message)", out, AL_UNEXPECTED);
      this.st = 1;
      return;
    }
    if (type === HS_SH) {
      for (let i = 0; i < 8; i++) this.rnd[8 + i] = body.charCodeAt(i);
    } else if (type === HS_CERT) {
      const c = mock_certs(body);
      this.peer_cert = c.length > 0 ? c[0] : null;
      if (this.peer_cert === null) return this.fail(TLS_HANDSHAKE + " (no server certificate)", out, AL_HANDSHAKE);
      this.verify(this.peer_cert, true, wall, out, "");
    } else if (type === HS_CREQ) {
      this.ask_cert = true;
    } else if (type === HS_DONE) {
      if (this.peer_cert === null || body !== String(proof(this.peer_cert.key))) return this.fail(TLS_HANDSHAKE + " (bad signature)", out, AL_HANDSHAKE);
      if (this.ask_cert) this.send_hs(out, HS_CERT, this.own !== null && this.key !== "" ? mg_mock_cert_line(this.own) : "");
      this.send_hs(out, HS_CKE, this.ask_cert && this.key !== "" ? String(proof(this.key)) : "");
      this.send_hs(out, HS_FIN, "");
      this.stage = 1;
    } else this.fail(TLS_HANDSHAKE + " (unexpected message)", out, AL_UNEXPECTED);
  }

  /** Checks a peer's certificate as OpenSSL would: issuer trusted, dates, then the name. */
  verify(c: MockCert, check_name: boolean, wall: number, out: TlsRing | null, who: string): void {
    if (this.skip) return;
    let ok = false;
    for (const t of this.trusted) if (t.ca && t.subject === c.issuer) ok = true;
    if (!ok) return this.fail(TLS_UNKNOWN_CA + who, out, AL_UNKNOWN_CA);
    if (wall > c.to) return this.fail(TLS_EXPIRED + who, out, AL_EXPIRED);
    if (wall < c.from) return this.fail(TLS_NOT_YET_VALID + who, out, AL_BAD_CERT);
    if (check_name && !name_ok(c.names, this.name)) return this.fail(TLS_WRONG_NAME + " (" + this.name + ")", out, AL_BAD_CERT);
  }

  /** The session's keystream byte for position i of the record numbered seq. */
  ks(seq: number, i: number): number {
    return this.rnd[(i + seq) & 15] ^ ((i * 7 + seq * 13) & 255);
  }

  unscramble(n: number): void {
    const seq = this.seq_in++;
    for (let i = 0; i < n; i++) put(this.app, this.rec[i] ^ this.ks(seq, i));
  }

  /** Room for plaintext in out: what one record can carry now. */
  room(out: TlsRing | null): number {
    if (out === null || this.st !== 1) return 0;
    const r = out.rx.length - out.len - 5;
    return r <= 0 ? 0 : r > MAX_RECORD ? MAX_RECORD : r;
  }

  /** Sends n plaintext bytes (n <= room(out)) as one application record. */
  wrap(src: Uint8Array, ofs: number, n: number, out: TlsRing): void {
    const seq = this.seq_out++;
    put(out, REC_APP);
    put(out, 3);
    put(out, 3);
    put(out, n >> 8);
    put(out, n & 255);
    for (let i = 0; i < n; i++) put(out, src[ofs + i] ^ this.ks(seq, i));
  }

  /** Copies up to n plaintext bytes into dst; returns the count. */
  take(dst: Uint8Array, ofs: number, n: number): number {
    const a = this.app;
    if (n > a.len) n = a.len;
    for (let i = 0; i < n; i++) dst[ofs + i] = at(a, i);
    drop(a, n);
    return n;
  }

  close_notify(out: TlsRing | null): void {
    if (this.st === 1) this.send(out, REC_ALERT, 1, AL_CLOSE);
  }
}

function mg_mock_cert_line(c: MockCert): string {
  return "mock subject=" + c.subject + ";issuer=" + c.issuer + ";key=" + c.key + ";from=" + c.from + ";to=" + c.to + ";ca=" + (c.ca ? 1 : 0);
}
