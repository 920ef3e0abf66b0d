// MQTT packets written and read by hand for the tests (not a suite itself):
// an encoder and a decoder of their own, independent of src/mqtt.ts, so the
// suites do not check mgts against itself. No Node APIs: the mock suites run
// on XS too.
import { mg_utf8_encode } from "../src/str.js";

/** UTF-8 bytes of a JS string (encoding is not what these tests check: mgts's encoder serves). */
export function utf8(s: string): number[] {
  return Array.from(mg_utf8_encode(s));
}

export function text(b: Uint8Array | number[]): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** A variable byte integer. */
export function vint(n: number): number[] {
  const out: number[] = [];
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 128;
    out.push(d);
  } while (n > 0);
  return out;
}

export function u16(n: number): number[] {
  return [(n >> 8) & 255, n & 255];
}
export function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

/** A two-byte length and the bytes (a string as UTF-8). */
export function str(s: string | number[]): number[] {
  const b = typeof s === "string" ? utf8(s) : s;
  return [...u16(b.length), ...b];
}

/** A packet: first byte, remaining length, body. */
export function pkt(b0: number, body: number[]): Uint8Array {
  return new Uint8Array([b0, ...vint(body.length), ...body]);
}

/** v5 properties with their length. */
export function props(p: number[]): number[] {
  return [...vint(p.length), ...p];
}

export interface ConnectSpec {
  v?: number;
  id?: string;
  clean?: boolean;
  ka?: number;
  will?: { topic: string; msg: string; qos?: number; retain?: boolean; props?: number[] };
  user?: string;
  pass?: string;
  props?: number[];
}

export function connect(o: ConnectSpec = {}): Uint8Array {
  const v = o.v ?? 4;
  let f = o.clean === false ? 0 : 2;
  if (o.will) f |= 4 | ((o.will.qos ?? 0) << 3) | (o.will.retain ? 0x20 : 0);
  if (o.user !== undefined) f |= 0x80;
  if (o.pass !== undefined) f |= 0x40;
  const body = [...str("MQTT"), v, f, ...u16(o.ka ?? 0)];
  if (v === 5) body.push(...props(o.props ?? []));
  body.push(...str(o.id ?? "test"));
  if (o.will) {
    if (v === 5) body.push(...props(o.will.props ?? []));
    body.push(...str(o.will.topic), ...str(o.will.msg));
  }
  if (o.user !== undefined) body.push(...str(o.user));
  if (o.pass !== undefined) body.push(...str(o.pass));
  return pkt(0x10, body);
}

export interface PublishSpec {
  topic: string | number[];
  payload?: string | number[];
  qos?: number;
  id?: number;
  retain?: boolean;
  dup?: boolean;
  v5?: boolean;
  props?: number[];
}

export function publish(o: PublishSpec): Uint8Array {
  const qos = o.qos ?? 0;
  const b0 = 0x30 | (o.dup ? 8 : 0) | (qos << 1) | (o.retain ? 1 : 0);
  const body = [...str(o.topic)];
  if (qos > 0) body.push(...u16(o.id ?? 1));
  if (o.v5) body.push(...props(o.props ?? []));
  const p = o.payload ?? "";
  body.push(...(typeof p === "string" ? utf8(p) : p));
  return pkt(b0, body);
}

export function subscribe(id: number, filters: [string, number][], v5 = false, p: number[] = []): Uint8Array {
  const body = [...u16(id)];
  if (v5) body.push(...props(p));
  for (const [f, o] of filters) body.push(...str(f), o);
  return pkt(0x82, body);
}

export function unsubscribe(id: number, filters: string[], v5 = false): Uint8Array {
  const body = [...u16(id)];
  if (v5) body.push(0);
  for (const f of filters) body.push(...str(f));
  return pkt(0xa2, body);
}

/** PUBACK (4), PUBREC (5), PUBREL (6), PUBCOMP (7): the id, and a v5 reason when given. */
export function ack(cmd: number, id: number, reason?: number): Uint8Array {
  const body = [...u16(id)];
  if (reason !== undefined) body.push(reason);
  return pkt((cmd << 4) | (cmd === 6 ? 2 : 0), body);
}

export function connack(code = 0, sp = false, v5 = false, p: number[] = []): Uint8Array {
  return pkt(0x20, v5 ? [sp ? 1 : 0, code, ...props(p)] : [sp ? 1 : 0, code]);
}

export const PINGREQ = new Uint8Array([0xc0, 0]);
export const PINGRESP = new Uint8Array([0xd0, 0]);
export const DISCONNECT = new Uint8Array([0xe0, 0]);

export interface Packet {
  b0: number;
  cmd: number;
  flags: number;
  body: Uint8Array;
  raw: Uint8Array;
}

/** Splits bytes into packets; a cut one at the end is left out (rest tells how many bytes were whole). */
export function packets(b: Uint8Array): Packet[] & { rest: number } {
  const out = [] as unknown as Packet[] & { rest: number };
  let i = 0;
  while (i < b.length) {
    let n = 0;
    let mul = 1;
    let k = i + 1;
    for (;;) {
      if (k >= b.length) {
        out.rest = b.length - i;
        return out;
      }
      const d = b[k++];
      n += (d & 127) * mul;
      mul *= 128;
      if ((d & 128) === 0) break;
    }
    if (k + n > b.length) break;
    out.push({ b0: b[i], cmd: b[i] >> 4, flags: b[i] & 15, body: b.slice(k, k + n), raw: b.slice(i, k + n) });
    i = k + n;
  }
  out.rest = b.length - i;
  return out;
}

export interface Pub {
  topic: string;
  id: number;
  qos: number;
  retain: boolean;
  dup: boolean;
  props: number[];
  payload: string;
}

/** Reads a PUBLISH (v5: with its properties). */
export function read_publish(p: Packet, v5 = false): Pub {
  const b = p.body;
  const tl = (b[0] << 8) | b[1];
  let i = 2 + tl;
  const qos = (p.flags >> 1) & 3;
  let id = 0;
  if (qos > 0) {
    id = (b[i] << 8) | b[i + 1];
    i += 2;
  }
  const pr: number[] = [];
  if (v5) {
    let n = 0;
    let mul = 1;
    for (;;) {
      const d = b[i++];
      n += (d & 127) * mul;
      mul *= 128;
      if ((d & 128) === 0) break;
    }
    for (let k = 0; k < n; k++) pr.push(b[i + k]);
    i += n;
  }
  return { topic: text(b.slice(2, 2 + tl)), id, qos, retain: (p.flags & 1) !== 0, dup: (p.flags & 8) !== 0, props: pr, payload: text(b.slice(i)) };
}

/** The id of an acknowledgement-like packet. */
export function id_of(p: Packet): number {
  return (p.body[0] << 8) | p.body[1];
}
