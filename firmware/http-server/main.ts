// The http-server app, after Mongoose's examples/http-server: a web root and a
// small JSON API.
//   npm start -- --app http-server --port 8000
//   curl http://127.0.0.1:8000/                      the web root (index.html)
//   curl http://127.0.0.1:8000/api/stats             {"uptime_ms":..,"requests":..,"connections":..}
//   curl -d '{"a":1,"b":2}' http://127.0.0.1:8000/api/sum          {"result":3}
//   curl --data-binary @f 'http://127.0.0.1:8000/api/upload?file=f&offset=0'
// Without a filesystem (a device, or `npm start`) it serves its built-in
// packed pages (web.ts) and uploads are refused; main({fs, root, upload_dir})
// serves a real folder (hal/fs_node on the host). Files and uploads stream
// through MG_IO_SIZE buffers, whatever their size.
import {
  MG_EV_HTTP_HDRS,
  MG_EV_HTTP_MSG,
  MG_INFO,
  mg_connection,
  mg_fs,
  mg_fs_packed,
  mg_http_listen,
  mg_http_message,
  mg_http_reply,
  mg_http_serve_dir,
  mg_http_serve_opts,
  mg_http_upload,
  mg_json_get_num,
  mg_match,
  mg_mgr,
  mg_mgr_init,
  mg_mgr_run,
  mg_str,
} from "../../src/index.js";
import { web_files } from "./web.js";

export interface HttpServerOptions {
  port: number;
  host?: string;
  /** The filesystem to serve (default: the built-in packed pages). */
  fs?: mg_fs;
  /** The folder on fs to serve (default "/", the packed root). */
  root?: string;
  /** Where POST /api/upload writes (needs a writable fs); none: uploads get 403. */
  upload_dir?: string;
  /** Largest upload in bytes. */
  max_upload?: number;
}

/** The app's state, handed to the handler as fn_data. */
export class http_server_app {
  opts = new mg_http_serve_opts();
  upload_dir: string | null = null;
  max_upload = 1 << 20;
  started = 0;
  requests = 0;
  mgr: mg_mgr | null = null;
}

// URI patterns, made once and frozen (src/config.ts: module state)
const API_STATS = Object.freeze(mg_str("/api/stats"));
const API_SUM = Object.freeze(mg_str("/api/sum"));
const API_UPLOAD = Object.freeze(mg_str("/api/upload"));
const API_ANY = Object.freeze(mg_str("/api/#"));

function live_connections(mgr: mg_mgr): number {
  let n = 0;
  for (let c = mgr.conns; c !== null; c = c.next) if (!c.is_listening) n++;
  return n;
}

export function http_server(c: mg_connection, ev: number, ev_data: any, app: http_server_app): void {
  if (ev === MG_EV_HTTP_HDRS) {
    const hm = ev_data as mg_http_message;
    // uploads stream to the file as they arrive: take them before the body
    if (mg_match(hm.uri, API_UPLOAD, null)) {
      if (app.upload_dir === null) mg_http_reply(c, 403, "", "uploads are off\n");
      else mg_http_upload(c, hm, app.opts.fs!, app.upload_dir, app.max_upload);
    }
  } else if (ev === MG_EV_HTTP_MSG) {
    const hm = ev_data as mg_http_message;
    app.requests++;
    if (mg_match(hm.uri, API_STATS, null)) {
      const now = c.mgr.hal!.millis();
      mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{\"uptime_ms\":%d,\"requests\":%d,\"connections\":%d}\n",
        now - app.started, app.requests, live_connections(c.mgr));
    } else if (mg_match(hm.uri, API_SUM, null)) {
      const a = mg_json_get_num(hm.body, "$.a");
      const b = mg_json_get_num(hm.body, "$.b");
      if (a === undefined || b === undefined) mg_http_reply(c, 400, "", "expected {\"a\": number, \"b\": number}\n");
      else mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{\"result\":%g}\n", a + b);
    } else if (mg_match(hm.uri, API_ANY, null)) {
      mg_http_reply(c, 404, "Content-Type: application/json\r\n", "{\"error\":\"no such API\"}\n");
    } else {
      mg_http_serve_dir(c, hm, app.opts);
    }
  }
}

/** Starts the app; returns the manager (its listener is mgr.conns). */
export function main(opts: HttpServerOptions): mg_mgr {
  const mgr = new mg_mgr();
  mg_mgr_init(mgr);
  const app = new http_server_app();
  app.mgr = mgr;
  app.started = mgr.hal!.millis();
  app.opts.fs = opts.fs ?? new mg_fs_packed(web_files());
  app.opts.root_dir = opts.root ?? "/";
  app.opts.extra_headers = "Cache-Control: no-cache\r\n";
  app.upload_dir = opts.upload_dir ?? null;
  if (opts.max_upload !== undefined) app.max_upload = opts.max_upload;
  const host = opts.host ?? "0.0.0.0";
  const l = mg_http_listen(mgr, `http://${host}:${opts.port}`, http_server, app);
  if (l === null) throw new Error(`http-server: cannot listen on ${host}:${opts.port}`);
  MG_INFO("http-server: serving %s on %s:%d", app.opts.root_dir, host, opts.port);
  mg_mgr_run(mgr, 1000);
  return mgr;
}
