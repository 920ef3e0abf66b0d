// The event manager, the connection pool and the core events (Mongoose's net.c, sock.c, event.c).

/**
 * A network address (Mongoose's struct mg_addr).
 * TypeScript adaptation: port is in host byte order (there are no network-order
 * integers in JavaScript), and ip is a 16-byte array whose first 4 bytes hold
 * an IPv4 address (a.b.c.d = ip[0..3]) when is_ip6 is false.
 */
export class mg_addr {
  port = 0;
  ip = new Uint8Array(16);
  is_ip6 = false;
  scope_id = 0;
}
