// mgts: the public API, one import for applications.
export * from "./config.js";
export * from "./str.js";
export * from "./iobuf.js";
export * from "./fmt.js";
export * from "./log.js";
export * from "./timer.js";
export * from "./url.js";
export * from "./json.js";
export * from "./util.js";
export * from "./fs.js";
export * from "./net.js";
export { mg_tls_init, type mg_tls_bytes, type mg_tls_opts } from "./tls.js"; // not tls_params: the core's
export * from "./http.js";
export * from "./ws.js";
export * from "./sntp.js";
export * from "./rpc.js";
export * from "./mqtt_packet.js";
export * from "./mqtt.js";
export * from "./mqtt_broker.js";
