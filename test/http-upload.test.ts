// A 10 MB multipart upload through the 6.x part events with MG_IO_SIZE
// buffers: every byte arrives (CRC-32), in order, with near-boundary bytes in
// the data, under short reads. Runs on Node and XS; the XS heap during such an
// upload is measured in bench/http.bench.mjs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock, mg_mock_bytes } from "../hal/mock.js";
import { MG_IO_SIZE } from "../src/config.js";
import { MG_EV_CLOSE, mg_connection, mg_mgr, mg_mgr_init } from "../src/net.js";
import {
  MG_EV_HTTP_MULTIPART_REQUEST,
  MG_EV_HTTP_MULTIPART_REQUEST_END,
  MG_EV_HTTP_PART_BEGIN,
  MG_EV_HTTP_PART_DATA,
  MG_EV_HTTP_PART_END,
  MG_EV_HTTP_REQUEST,
  mg_http_listen,
  mg_http_multipart_part,
  mg_http_reply,
  mg_set_protocol_http_websocket,
} from "../src/http.js";
import { mg_crc32 } from "../src/util.js";

const BOUNDARY = "----mgtsBoundary7MA4YWxkTrZu0gW";
const SIZE = 10 * 1024 * 1024;

const enc = mg_mock_bytes;

/**
 * The file's bytes, made piece by piece (10 MB is never held at once): a
 * xorshift stream with, every 64 KB, the delimiter minus its last byte.
 */
class FileGen {
  x = 0x9e3779b9;
  pos = 0;
  trap = enc("\r\n--" + BOUNDARY.slice(0, -1));
  fill(buf: Uint8Array, ofs: number, n: number): void {
    for (let i = 0; i < n; i++, this.pos++) {
      const t = this.pos % 65536;
      if (t < this.trap.length) buf[ofs + i] = this.trap[t];
      else {
        let x = this.x;
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        this.x = x;
        buf[ofs + i] = x & 255;
      }
    }
  }
}

interface Got {
  events: string[];
  size: number;
  crc: number;
  field: string;
  max_piece: number;
}

test("10 MB multipart through the 6.x part events: every byte (CRC-32), pieces at most MG_IO_SIZE, a reply at the end", () => {
  const net = new mg_mock(8, 16384);
  net.read_cap = 1500; // reads of odd sizes: delimiters fall across reads
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const got: Got = { events: [], size: 0, crc: 0, field: "", max_piece: 0 };
  const l = mg_http_listen(mgr, "http://0.0.0.0:80", (c: mg_connection, ev: number, d: any) => {
    if (ev === MG_EV_HTTP_MULTIPART_REQUEST) got.events.push("MREQ");
    else if (ev === MG_EV_HTTP_PART_BEGIN) got.events.push("BEGIN:" + String((d as mg_http_multipart_part).var_name));
    else if (ev === MG_EV_HTTP_PART_DATA) {
      const p = d as mg_http_multipart_part;
      if (p.data.len > got.max_piece) got.max_piece = p.data.len;
      if (String(p.var_name) === "note") got.field += String(p.data);
      else {
        got.crc = mg_crc32(got.crc, p.data.buf, p.data.ofs, p.data.len);
        got.size += p.data.len;
      }
    } else if (ev === MG_EV_HTTP_PART_END) got.events.push("END:" + (d as mg_http_multipart_part).status);
    else if (ev === MG_EV_HTTP_MULTIPART_REQUEST_END) {
      got.events.push("REQEND:" + (d as mg_http_multipart_part).status);
      mg_http_reply(c, 200, "", "%u", got.crc);
    } else if (ev === MG_EV_HTTP_REQUEST) got.events.push("REQUEST");
    else if (ev === MG_EV_CLOSE && !c.is_listening) got.events.push("CLOSE");
  }, null)!;
  mg_set_protocol_http_websocket(l);

  const head_part = enc(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\nfirmware v2\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="fw"; filename="fw.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = enc(`\r\n--${BOUNDARY}--\r\n`);
  const total = head_part.length + SIZE + tail.length;
  const head = enc(`POST /upload HTTP/1.1\r\nHost: dev\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${total}\r\n\r\n`);

  const p = net.client(80)!;
  const gen = new FileGen();
  const piece = new Uint8Array(8192);
  let expect_crc = 0;
  let sent_file = 0;
  // the head and the first part, then the file as the server takes it, then the tail
  assert.is(p.send(head), head.length);
  assert.is(p.send(head_part), head_part.length);
  let pend = 0; // bytes of piece not yet accepted by the socket
  let pofs = 0;
  for (let guard = 0; guard < 200000 && (sent_file < SIZE || pend > 0); guard++) {
    if (pend === 0) {
      const n = SIZE - sent_file < piece.length ? SIZE - sent_file : piece.length;
      gen.fill(piece, 0, n);
      expect_crc = mg_crc32(expect_crc, piece, 0, n);
      sent_file += n;
      pend = n;
      pofs = 0;
    }
    const k = p.send(piece, pend, pofs);
    pend -= k;
    pofs += k;
    net.poll(mgr);
  }
  assert.is(p.send(tail), tail.length);
  let reply = "";
  for (let i = 0; i < 50 && reply.length === 0; i++) {
    net.poll(mgr);
    reply = p.recv_str();
  }
  assert.is(got.field, "firmware v2");
  assert.is(got.size, SIZE, "every byte of the file");
  assert.is(got.crc, expect_crc, "in order, unchanged");
  assert.ok(got.max_piece <= MG_IO_SIZE, "pieces fit the buffer: " + got.max_piece);
  assert.equal(got.events, ["MREQ", "BEGIN:note", "END:0", "BEGIN:fw", "END:0", "REQEND:0"]);
  assert.is(reply, `HTTP/1.1 200 OK\r\nContent-Length: ${String(expect_crc).length}\r\n\r\n${expect_crc}`);
});

test.run();
