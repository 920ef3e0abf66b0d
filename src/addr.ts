// The network address (Mongoose's struct mg_addr), in a file of its own below
// everything that names it: the HAL (hal/hal.ts), printf's %I printers
// (fmt.ts), mg_aton (url.ts) and the manager (net.ts), so none of them has to
// import the manager's file for one type. Users get it from net.js and the
// package root as before.

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
