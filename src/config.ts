// Build-time configuration. Every limit and feature switch of mgts lives here,
// named as in Mongoose's src/config.h where Mongoose has a name for it.
//
// These are plain `export const` literals on purpose: rollup propagates them
// into every module and drops the branches they disable, so a feature that is
// switched off costs no bytes in the bundle. A board build replaces values from
// boards/<board>/config.ts (see rollup.config.js); nothing reads them at run
// time from elsewhere.
//
// Module state, for every file in src/ (and the apps): on a device Moddable
// preloads these modules, running their top level at build time (xsl) and
// keeping what it made in flash. So at module level keep only what is never
// written afterwards: functions, classes, `const` primitives, frozen objects
// (`Object.freeze(o)`; an object that holds objects: freeze those too), and
// typed arrays or ArrayBuffers that are only read (they become read-only:
// a write throws). Never a module-level `let`, and never an object, array,
// Map or buffer that is written later: xsl warns about each ("no const",
// "not frozen"), each costs RAM for an alias, and writing into a preloaded
// array has crashed XS's garbage collector. State that changes at run time
// lives in objects made at run time: the manager and its connections
// (mg_mgr_init makes the pool), an app's own objects, or, for module-wide
// state, one object per module made on first use and kept on globalThis:
//   function log_state(): LogState {
//     return ((globalThis as any).mgts_log ??= new LogState());
//   }
// (one property per module, named mgts_<module>). test/build.moddable.test.ts
// preloads the whole core for every board with the real xsl and fails on
// any warning.

/** Size of each connection's receive and send buffer, made once in mg_mgr_init. */
export const MG_IO_SIZE = 2048;
/** Connections in the pool (listeners included). Device boards set 8: lwIP on ESP32 has 8 TCP PCBs. */
export const MG_MAX_CONNS = 64;
/** Headers parsed per HTTP message; more than this is answered with 431. */
export const MG_MAX_HTTP_HEADERS = 30;
/**
 * HTTP/1.1 is parsed as RFC 9112 writes it (as llhttp's strict mode does):
 * every line ends with CRLF. true also takes a bare LF as a line end (in
 * heads, chunk-size lines, chunk data and trailers), for old scripts and
 * hand-typed requests; it reopens the framing differences request smuggling
 * feeds on when a proxy sits in front, so it is off by default.
 */
export const MG_HTTP_ALLOW_BARE_LF = false;
/** Timers in the manager's fixed timer table (mg_timer_add). */
export const MG_MAX_TIMERS = 16;
/** Host names being resolved at once. */
export const MG_MAX_RESOLVES = 4;
/** Size of c.label, as in Mongoose (char label[50]). */
export const MG_LABEL_SIZE = 50;
/** Scratch bytes per connection (Mongoose's c->data). */
export const MG_DATA_SIZE = 32;
/** Longest formatted log line; longer lines are cut. */
export const MG_LOG_LINE = 256;
/** JSON nesting limit of mg_json_get (MG_JSON_MAX_DEPTH). */
export const MG_JSON_MAX_DEPTH = 30;
/** Longest file path mg_http_serve_dir builds (MG_PATH_MAX on ESP32). */
export const MG_PATH_MAX = 128;
/** Name of the index file of a directory. */
export const MG_HTTP_INDEX = "index.html";

/** Idle timeout: a connection with no traffic for this long is closed. 0 = never (Mongoose's behaviour). */
export const MG_IDLE_TIMEOUT_MS = 0;
/**
 * HTTP server: a request head must be complete this long after the
 * connection became ready for it (accepted, or the previous reply sent);
 * otherwise 408 (bytes had arrived) or a quiet close (idle keep-alive).
 * Frees pool slots from idle and too-slow clients. 0 = never.
 */
export const MG_HTTP_HEAD_TIMEOUT_MS = 30000;
/**
 * HTTP server: a request head or body that is still arriving must bring at
 * least this many bytes per second, measured over windows of
 * MG_HTTP_RATE_WINDOW_MS (not counted: time when the server holds the client
 * back, a reply pending or recv full); slower gets 408 and is closed. Frees
 * pool slots from slowloris and slow-body clients. 0 = no minimum. (mgts:
 * Mongoose has none.)
 */
export const MG_HTTP_MIN_RATE = 100;
/** The window MG_HTTP_MIN_RATE is measured over: a slow client is found out after one such window. */
export const MG_HTTP_RATE_WINDOW_MS = 5000;
/**
 * Pool defence: when the pool is full, a new connection evicts the accepted
 * connection that made the least progress (bytes per second since its
 * current head began; an idle keep-alive has none) instead of being
 * refused. While none can be evicted yet, new connections wait in the
 * listen backlog; only when every slot is busy being answered are they
 * refused. (mgts: Mongoose refuses, and has no pool.)
 */
export const MG_ENABLE_EVICT = true;
/**
 * Pool defence: an HTTP connection may be evicted once its incomplete head,
 * incomplete body or keep-alive idleness is this old. Short on purpose: a
 * client's request arrives in the first round trip, and the least progress
 * goes first, so a slow attacker is evicted long before a client that sends.
 * It also bounds how fast the pool turns over (pool / this per second).
 */
export const MG_EVICT_MIN_AGE_MS = 50;
/** Pool defence: other accepted connections (raw TCP, WebSocket) may be evicted after this long without traffic either way. 0 = never. */
export const MG_EVICT_IDLE_MS = 10000;
/**
 * Accepted connections one client address may hold at once; another one
 * evicts that address's own least-progress connection if it can, else it is
 * refused. 0 = no limit.
 */
export const MG_MAX_CONNS_PER_IP = 0;
/** How long a resolve may take before MG_EV_ERROR "DNS timeout". */
export const MG_DNS_TIMEOUT_MS = 3000;
/** How long a TCP connect may take before MG_EV_ERROR "connect timeout". */
export const MG_CONNECT_TIMEOUT_MS = 10000;

/** Logging; false compiles every MG_ERROR/MG_INFO/MG_DEBUG/MG_VERBOSE call out. */
export const MG_ENABLE_LOG = true;
/** The default log level (Mongoose's default is MG_LL_DEBUG; a device wants less). */
export const MG_LOG_LEVEL_DEFAULT = 2;
/** Hex dumps of traffic for connections with is_hexdumping. */
export const MG_ENABLE_HEXDUMP = true;
/** The HTTP protocol (src/http.ts and the src/http_*.ts it re-exports). */
export const MG_ENABLE_HTTP = true;
/** WebSocket (src/ws.ts); needs HTTP. */
export const MG_ENABLE_WS = true;
/** UDP sockets. */
export const MG_ENABLE_UDP = true;
/** SNTP client (src/sntp.ts: mg_sntp_connect, MG_EV_SNTP_TIME); needs UDP. mg_now() stays either way. */
export const MG_ENABLE_SNTP = true;
/** How long an SNTP request waits for its reply before it is sent again (mgr.sntp_timeout at run time); each retry waits twice as long. */
export const MG_SNTP_TIMEOUT_MS = 3000;
/** Requests sent again before MG_EV_ERROR (2: three requests, 3 + 6 + 12 s with the default timeout). */
export const MG_SNTP_RETRIES = 2;
/** JSON-RPC (src/rpc.ts: mg_rpc_add, mg_rpc_process, ...). */
export const MG_ENABLE_RPC = true;
/** Methods in one RPC table (mg_rpc_head); mg_rpc_add refuses more. */
export const MG_MAX_RPC_METHODS = 16;
/** Longest method name (or glob pattern) of mg_rpc_add, in UTF-8 bytes. */
export const MG_RPC_NAME_SIZE = 32;
/** Largest RPC reply frame; a result that does not fit is answered with error -32603. */
export const MG_RPC_REPLY_SIZE = 1024;
/**
 * TLS (src/tls.ts: mg_tls_init; https://, wss://, mqtts:// URLs). It needs a
 * HAL that has TLS (hal/node.ts; the mock); false removes it from the bundle,
 * and TLS URLs then fail with MG_EV_ERROR "TLS not available".
 */
export const MG_ENABLE_TLS = true;
/** TLS connections alive at once per manager; more fail with MG_EV_ERROR. A board sets what its heap holds. */
export const MG_MAX_TLS_CONNS = 32;

/** MQTT 3.1.1 and 5 (src/mqtt.ts: client and codec; src/mqtt_broker.ts: the broker). */
export const MG_ENABLE_MQTT = true;
/**
 * QoS 1 and 2 messages in flight per connection and direction: outgoing ones
 * awaiting their acknowledgement, incoming QoS 2 ones awaiting PUBREL. Sent
 * as the v5 Receive Maximum. mg_mqtt_pub refuses a QoS 1/2 message when full.
 */
export const MG_MQTT_MAX_INFLIGHT = 16;
/** Bytes an mg_mqtt_session keeps of its in-flight QoS 1/2 PUBLISH packets, to resend them after a reconnect. */
export const MG_MQTT_SESSION_SIZE = 4096;
/** v5 topic aliases accepted per connection (Topic Alias Maximum sent in CONNECT/CONNACK); 0 = none. */
export const MG_MQTT_TOPIC_ALIASES = 4;
/** Longest topic a topic alias or a broker subscription filter can hold, in bytes. */
export const MG_MQTT_TOPIC_MAX = 128;
/** Broker: subscriptions, all clients together. A SUBSCRIBE beyond it is refused per filter (0x80, v5 0x97). */
export const MG_MQTT_BROKER_SUBS = 64;
/** Broker: retained messages, and the bytes they may use in all (topic, properties, payload). */
export const MG_MQTT_BROKER_RETAINED = 32;
export const MG_MQTT_BROKER_RETAINED_SIZE = 8192;
/** Broker: longest client id (the spec asks for at least 23) and will (topic, properties, payload) per client. */
export const MG_MQTT_CLIENT_ID_MAX = 64;
export const MG_MQTT_WILL_SIZE = 512;
/**
 * Broker: how long a PUBLISH may wait for a subscriber whose send buffer (or
 * in-flight window) is full; its publisher is not read meanwhile (TCP
 * back-pressure). After that it is dropped for that subscriber.
 */
export const MG_MQTT_BROKER_STALL_MS = 2000;
