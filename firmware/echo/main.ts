// The echo app: the first thing to try on a new board or on the simulator.
//   npm start -- --app echo --port 8000
//   curl -d hello http://127.0.0.1:8000/echo     any size, streamed back
//   curl http://127.0.0.1:8000/                    "hi" (as mg_hello: /debug, /quit)
//   websocat ws://127.0.0.1:8000/ws               every message back, any size
//   nc 127.0.0.1 8001                              raw TCP echo
//   nc -u 127.0.0.1 8002                           UDP echo
//   curl --cacert build/echo-tls/cert.pem https://localhost:8003/echo -d hi
//                                                  HTTPS and WSS on port + 3 (when given a certificate)
// With MG_IO_SIZE 2048, bodies and messages of any size pass through: the
// app takes them in pieces and sends them back as they come.
import {
  MG_EV_ACCEPT,
  MG_EV_CLOSE,
  MG_EV_HTTP_CHUNK,
  MG_EV_HTTP_HDRS,
  MG_EV_HTTP_MSG,
  MG_EV_READ,
  MG_EV_WRITE,
  MG_EV_WS_MSG,
  MG_INFO,
  MG_ERROR,
  MG_EV_ERROR,
  WEBSOCKET_DONT_FIN,
  WEBSOCKET_OP_CONTINUE,
  mg_connection,
  mg_hello_handler,
  mg_http_listen,
  mg_http_message,
  mg_http_stream_body,
  mg_http_write_chunk,
  mg_iobuf_del,
  mg_listen,
  mg_mgr,
  mg_mgr_free,
  mg_mgr_init,
  mg_mgr_run,
  mg_mgr_stop,
  mg_printf,
  mg_send,
  mg_set_timeout,
  mg_tls_init,
  mg_tls_opts,
  mg_ws_message,
  mg_ws_recv_pieces,
  mg_ws_send,
  mg_ws_upgrade,
} from "../../src/index.js";

export interface EchoOptions {
  port: number;
  host?: string;
  /** A certificate and key: HTTPS and WSS on port + 3, the HTTP app over TLS. */
  tls?: mg_tls_opts;
}

/**
 * Raw TCP has no protocol to say a client is gone: a connection with no byte
 * either way for this long is closed (MG_EV_ERROR "timeout"), so idle clients
 * do not hold pool slots (the HTTP port shares the pool).
 */
export const ECHO_TCP_IDLE_MS = 60000;

/** Raw TCP: echoes what arrived, as much as the send buffer takes; the rest goes on MG_EV_WRITE. */
export function echo_tcp(c: mg_connection, ev: number): void {
  if (ev === MG_EV_ACCEPT) {
    MG_INFO("echo: %lu connected", c.id);
    mg_set_timeout(c, ECHO_TCP_IDLE_MS);
  } else if (ev === MG_EV_CLOSE) MG_INFO("echo: %lu closed", c.id);
  else if (ev === MG_EV_READ || ev === MG_EV_WRITE) {
    mg_set_timeout(c, ECHO_TCP_IDLE_MS); // traffic: the idle clock starts again
    if (c.recv.len > 0) {
      const room = c.send.size - c.send.len;
      const n = c.recv.len < room ? c.recv.len : room;
      if (n > 0 && mg_send(c, c.recv.buf, n)) mg_iobuf_del(c.recv, 0, n);
    }
  }
}

/** UDP: a listener answers the sender of the datagram it just read. */
export function echo_udp(c: mg_connection, ev: number): void {
  if (ev === MG_EV_READ) {
    mg_send(c, c.recv.buf, c.recv.len);
    c.recv.len = 0;
  }
}

const ECHO = "/echo";
const WS = "/ws";

function is_uri(hm: mg_http_message, s: string): boolean {
  const u = hm.uri;
  if (u.len !== s.length) return false;
  for (let i = 0; i < u.len; i++) if (u.buf[u.ofs + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Chunk overhead of mg_http_write_chunk for a piece: hex size, two CRLFs. */
const CHUNK_OVERHEAD = 12;
/** Largest WebSocket header a server sends. */
const WS_OVERHEAD = 10;

/** HTTP: /echo streams the body back (chunked), /ws echoes WebSocket messages, the rest as mg_hello. */
export function echo_http(c: mg_connection, ev: number, ev_data: any): void {
  if (ev === MG_EV_HTTP_HDRS) {
    const hm = ev_data as mg_http_message;
    if (is_uri(hm, ECHO)) {
      mg_http_stream_body(c);
      mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
    }
  } else if (ev === MG_EV_HTTP_CHUNK) {
    // send back what fits now; what does not is offered again after the next write
    const hm = ev_data as mg_http_message;
    const room = c.send.size - c.send.len - CHUNK_OVERHEAD;
    const n = hm.chunk.len < room ? hm.chunk.len : room;
    hm.chunk_consumed = n > 0 && mg_http_write_chunk(c, hm.chunk.buf, n, hm.chunk.ofs) ? n : 0;
  } else if (ev === MG_EV_HTTP_MSG) {
    const hm = ev_data as mg_http_message;
    if (is_uri(hm, ECHO)) mg_http_write_chunk(c, "");
    else if (is_uri(hm, WS)) {
      if (mg_ws_upgrade(c, hm, null)) mg_ws_recv_pieces(c);
    } else {
      mg_hello_handler(c, ev, hm);
    }
  } else if (ev === MG_EV_WS_MSG) {
    // a piece of a message: send it back as a fragment of the same message
    const wm = ev_data as mg_ws_message;
    const last = (wm.flags & 0x80) !== 0;
    const room = c.send.size - c.send.len - WS_OVERHEAD;
    const n = wm.data.len < room ? wm.data.len : room;
    if (n <= 0 && wm.data.len > 0) {
      wm.consumed = 0;
      return;
    }
    const op = wm.offset === 0 ? wm.flags & 15 : WEBSOCKET_OP_CONTINUE;
    const fin = last && n === wm.data.len;
    mg_ws_send(c, wm.data, n, fin ? op : op | WEBSOCKET_DONT_FIN);
    wm.consumed = n;
  } else if (ev === MG_EV_CLOSE && c.label === "mg_hello:quit") {
    // /quit: stop the app once the answer is out
    const mgr = c.mgr;
    mg_mgr_stop(mgr);
    Promise.resolve().then(() => mg_mgr_free(mgr));
  }
}

/** The HTTP app over TLS: the certificate (fn_data) is given on MG_EV_ACCEPT, as in Mongoose. */
export function echo_https(c: mg_connection, ev: number, ev_data: any, tls: mg_tls_opts): void {
  if (ev === MG_EV_ACCEPT) mg_tls_init(c, tls);
  else if (ev === MG_EV_ERROR) MG_INFO("echo: %lu %s", c.id, ev_data);
  echo_http(c, ev, ev_data);
}

/** Starts the app: HTTP on port, raw TCP echo on port + 1, UDP echo on port + 2, HTTPS on port + 3 with opts.tls (port 0: any free ones). */
export function main(opts: EchoOptions): mg_mgr {
  const mgr = new mg_mgr();
  mg_mgr_init(mgr);
  const host = opts.host ?? "0.0.0.0";
  const next = (k: number) => (opts.port === 0 ? 0 : opts.port + k);
  const http = mg_http_listen(mgr, `http://${host}:${opts.port}`, echo_http, null);
  const tcp = mg_listen(mgr, `tcp://${host}:${next(1)}`, echo_tcp, null);
  const udp = mg_listen(mgr, `udp://${host}:${next(2)}`, echo_udp, null);
  if (http === null || tcp === null || udp === null) throw new Error(`echo: cannot listen on ports ${opts.port}..${opts.port + 2}`);
  MG_INFO("echo: HTTP on %s:%d (/echo, /ws), TCP echo on %d, UDP echo on %d", host, http.loc.port, tcp.loc.port, udp.loc.port);
  if (opts.tls !== undefined) {
    // without TLS in the HAL the rest of the app still runs
    if (mg_http_listen(mgr, `https://${host}:${next(3)}`, echo_https, opts.tls) !== null) MG_INFO("echo: HTTPS and WSS on %s:%d", host, next(3));
    else MG_ERROR("echo: no HTTPS on port %d (TLS not available, or the port is taken)", next(3));
  }
  mg_mgr_run(mgr, 1000);
  return mgr;
}
