// Helpers shared by the WebSocket suites over real sockets (not a suite itself).
import type { RawData, WebSocket } from "ws";

export { until, within } from "./hal_suite.js";

/** A ws message's bytes as one Buffer. */
export function as_buf(d: RawData): Buffer {
  return Array.isArray(d) ? Buffer.concat(d) : Buffer.isBuffer(d) ? d : Buffer.from(d as ArrayBuffer);
}

/** The next message on ws, or a rejection if it closes first or none comes within ms. */
export function next_message(ws: WebSocket, ms = 15000): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((ok, fail) => {
    const on_close = (code: number) => fail(new Error("closed with " + code));
    const t = setTimeout(() => fail(new Error("no message")), ms);
    ws.once("close", on_close);
    ws.once("message", (d, binary) => {
      clearTimeout(t);
      ws.off("close", on_close);
      ok({ data: as_buf(d), binary });
    });
  });
}
