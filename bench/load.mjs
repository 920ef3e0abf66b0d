// The HTTP load generator of the benches: conns keep-alive connections, each
// sending `GET / HTTP/1.1` and the next one when the whole reply (Content-
// Length framed) has arrived, for ms milliseconds. Resolves with replies per
// second and the number of connections that failed (a reset, a refusal).
import net from "node:net";

export function http_load(port, conns, ms) {
  const req = Buffer.from("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  return new Promise((resolve) => {
    let replies = 0;
    let errors = 0;
    let stop = false;
    const socks = [];
    const t0 = performance.now();
    setTimeout(() => {
      stop = true;
      for (const s of socks) s.destroy();
      resolve({ rps: replies / ((performance.now() - t0) / 1000), errors });
    }, ms);
    for (let i = 0; i < conns; i++) {
      const s = net.connect(port, "127.0.0.1");
      socks.push(s);
      s.setNoDelay(true);
      let buf = Buffer.alloc(0);
      s.on("connect", () => s.write(req));
      s.on("data", (d) => {
        buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
        for (;;) {
          const he = buf.indexOf("\r\n\r\n");
          if (he < 0) return;
          const m = /content-length:\s*(\d+)/i.exec(buf.subarray(0, he).toString("latin1"));
          const len = m ? Number(m[1]) : 0;
          if (buf.length < he + 4 + len) return;
          buf = buf.subarray(he + 4 + len);
          replies++;
          if (!stop) s.write(req);
        }
      });
      s.on("error", () => {
        if (!stop) errors++;
      });
    }
  });
}
