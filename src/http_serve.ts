// Files over HTTP, apart from the protocol as Mongoose keeps its file serving
// apart from the parser: mg_http_serve_dir and mg_http_serve_file (MIME types,
// ETag and 304, one Range and 206/416, .gz variants, page404), the pump that
// streams a file into the send buffer as it drains (start_file, serve_pump;
// http.ts calls the pump on MG_EV_WRITE and MG_EV_POLL), and uploads
// (mg_http_upload, whose UploadSink takes a request body piece by piece).
// Every file is reached through an mg_fs (fs.ts).
import { MG_HTTP_INDEX, MG_PATH_MAX } from "./config.js";
import { MG_FS_DIR, MG_FS_READ, MG_FS_WRITE, mg_fs, mg_fs_stat } from "./fs.js";
import { type mg_connection, mg_mgr_kick, mg_printf } from "./net.js";
import { mg_str_n, mg_url_decode } from "./str.js";
import { ascii, eq_lc, lower, mg_http_get_header, mg_http_get_var_str, type mg_http_message } from "./http_parse.js";
import { type BodySink, type HttpConn, ST_SINK } from "./http_conn.js";
import { mg_http_reply, mg_http_status_reason } from "./http_reply.js";

// --- static files ----------------------------------------------------------------

export class mg_http_serve_opts {
  /** Web root, or a list "/=./web,/data=/sd/data": URI prefix = folder, the longest prefix wins. */
  root_dir = ".";
  /** Not supported by mgts (no SSI); kept so options port unchanged. */
  ssi_pattern: string | null = null;
  /** Extra response headers, each ending in CRLF. */
  extra_headers = "";
  /** MIME overrides "ext=type,ext2=type2"; "*=type" overrides every file. */
  mime_types = "";
  /** A file to serve (with 404) when nothing matches. */
  page404: string | null = null;
  /** The filesystem: POSIX on the host (hal/fs_node), packed on the device; default: mg_fs_default(). */
  fs: mg_fs | null = null;
}

/** Run-time state (config.ts: module state). */
class FsDefaults {
  fs: mg_fs | null = null;
}
function fs_state(): FsDefaults {
  return ((globalThis as any).mgts_http_fs ??= new FsDefaults());
}
/** Sets the filesystem used when mg_http_serve_opts.fs is null. */
export function mg_fs_default(fs: mg_fs): void {
  fs_state().fs = fs;
}

const MIME: readonly string[] = Object.freeze([
  "html", "text/html; charset=utf-8", "htm", "text/html; charset=utf-8", "shtml", "text/html; charset=utf-8",
  "css", "text/css; charset=utf-8", "js", "text/javascript; charset=utf-8", "mjs", "text/javascript; charset=utf-8",
  "json", "application/json", "map", "application/json", "txt", "text/plain; charset=utf-8",
  "xml", "text/xml; charset=utf-8", "csv", "text/csv; charset=utf-8", "md", "text/markdown; charset=utf-8",
  "png", "image/png", "jpg", "image/jpeg", "jpeg", "image/jpeg", "gif", "image/gif", "svg", "image/svg+xml",
  "ico", "image/x-icon", "webp", "image/webp", "bmp", "image/bmp", "wasm", "application/wasm",
  "pdf", "application/pdf", "zip", "application/zip", "gz", "application/gzip", "tar", "application/x-tar",
  "bin", "application/octet-stream", "woff", "font/woff", "woff2", "font/woff2", "ttf", "font/ttf", "otf", "font/otf",
  "mp3", "audio/mpeg", "wav", "audio/wav", "mp4", "video/mp4", "webm", "video/webm",
]);

/** The MIME type of a path, from the overrides then the table; text/plain for the unknown. */
export function mg_http_mime_type(path: string, overrides = ""): string {
  const dot = path.lastIndexOf(".");
  const ext = dot >= 0 && dot > path.lastIndexOf("/") ? path.slice(dot + 1).toLowerCase() : "";
  if (overrides.length > 0) {
    for (const item of overrides.split(",")) {
      const eq = item.indexOf("=");
      if (eq < 0) continue;
      const k = item.slice(0, eq).trim().toLowerCase();
      if (k === "*" || k === ext) return item.slice(eq + 1).trim();
    }
  }
  for (let i = 0; i < MIME.length; i += 2) if (MIME[i] === ext) return MIME[i + 1];
  return "text/plain; charset=utf-8";
}

/** False for paths that could leave the web root: "..", backslashes, NUL. */
export function mg_path_is_sane_str(path: string): boolean {
  if (path.indexOf("\\") >= 0 || path.indexOf("\0") >= 0) return false;
  for (const seg of path.split("/")) if (seg === "..") return false;
  return true;
}

/**
 * Serves files under opts.root_dir: the URI is URL-decoded and must stay
 * inside the root (400 otherwise); a directory without a trailing slash gets
 * 301; a directory serves index.html (or index.html.gz); otherwise as
 * mg_http_serve_file. Call it on MG_EV_HTTP_MSG.
 */
export function mg_http_serve_dir(c: mg_connection, hm: mg_http_message, opts: mg_http_serve_opts): void {
  const fs = opts.fs ?? fs_state().fs;
  if (fs === null) {
    mg_http_reply(c, 500, "", "no filesystem\n");
    return;
  }
  const dec = new Uint8Array(hm.uri.len + 1);
  const n = mg_url_decode(hm.uri, dec, 0, dec.length, false);
  const uri = n < 0 ? null : mg_str_n(dec, 0, n).toString();
  if (uri === null || !mg_path_is_sane_str(uri) || uri.charCodeAt(0) !== 47) {
    mg_http_reply(c, 400, "", "Invalid path\n");
    return;
  }
  // root rewrites: "prefix=dir,..." — the longest matching prefix wins
  let root = opts.root_dir;
  let rest = uri;
  if (root.indexOf("=") >= 0 || root.indexOf(",") >= 0) {
    let best = -1;
    root = ".";
    for (const item of opts.root_dir.split(",")) {
      const eq = item.indexOf("=");
      const prefix = eq < 0 ? "/" : item.slice(0, eq);
      const dir = eq < 0 ? item : item.slice(eq + 1);
      const matches = uri === prefix || uri.startsWith(prefix.endsWith("/") ? prefix : prefix + "/") || prefix === "/";
      if (matches && prefix.length > best) {
        best = prefix.length;
        root = dir;
        rest = prefix === "/" ? uri : uri.slice(prefix.length) || "/";
        if (rest.charCodeAt(0) !== 47) rest = "/" + rest;
      }
    }
  }
  if (root.endsWith("/")) root = root.slice(0, -1);
  let path = root + rest;
  if (path.length > MG_PATH_MAX) {
    mg_http_reply(c, 400, "", "Exceeded path size\n");
    return;
  }
  const flags = fs.st(path, null);
  if ((flags & MG_FS_DIR) !== 0) {
    if (!uri.endsWith("/")) {
      const q = hm.query.len > 0 ? "?" + hm.query.toString() : "";
      mg_http_reply(c, 301, "Location: " + hm.uri.toString() + "/" + q + "\r\n", "");
      return;
    }
    const index = path + (path.endsWith("/") ? "" : "/") + MG_HTTP_INDEX;
    if (fs.st(index, null) !== 0 || fs.st(index + ".gz", null) !== 0) path = index;
    else {
      mg_http_reply(c, 403, "", "Forbidden\n");
      return;
    }
  }
  mg_http_serve_file(c, hm, path, opts);
}

const LC_GZIP = ascii("gzip");
const LC_X_GZIP = ascii("x-gzip");

/**
 * Whether Accept-Encoding lets gzip through (RFC 9110 §12.5.3): a gzip (or
 * x-gzip) element whose weight is not 0, or, with none, a "*" whose weight
 * is not 0. `gzip;q=0` refuses it (Mongoose matches the substring "gzip"
 * and would send the .gz anyway).
 */
function accepts_gzip(hm: mg_http_message): boolean {
  const ae = mg_http_get_header(hm, "Accept-Encoding");
  if (ae === null) return false;
  const b = ae.buf;
  const end = ae.ofs + ae.len;
  let star = false;
  let i = ae.ofs;
  while (i < end) {
    while (i < end && (b[i] === 32 || b[i] === 9 || b[i] === 44)) i++;
    const s = i;
    while (i < end && b[i] !== 44 && b[i] !== 59 && b[i] !== 32 && b[i] !== 9) i++;
    const n = i - s;
    let refused = false; // ;q=0
    for (; i < end && b[i] !== 44; i++) {
      if (b[i] !== 59) continue;
      let k = i + 1;
      while (k < end && (b[k] === 32 || b[k] === 9)) k++;
      if (k + 1 < end && lower(b[k]) === 113 && b[k + 1] === 61) refused = q_zero(b, k + 2, end);
    }
    if (eq_lc(b, s, n, LC_GZIP) || eq_lc(b, s, n, LC_X_GZIP)) return !refused;
    if (n === 1 && b[s] === 42) star = !refused;
  }
  return star;
}

/** A qvalue of 0 ("0", "0.", "0.0", up to "0.000") at b[k], ended by the element or a parameter. */
function q_zero(b: Uint8Array, k: number, end: number): boolean {
  if (k >= end || b[k] !== 48) return false;
  k++;
  if (k < end && b[k] === 46) for (k++; k < end && b[k] === 48; k++);
  return k >= end || b[k] === 44 || b[k] === 59 || b[k] === 32 || b[k] === 9;
}

/**
 * Serves one file: Content-Type from its name, ETag ("mtime.size") with
 * If-None-Match → 304, Range (one range: a-b, a-, or the last -n bytes) → 206,
 * or 416 when it cannot be satisfied, <path>.gz with Content-Encoding: gzip
 * when the client accepts gzip, opts.page404 or 404 when missing. The body
 * streams from the filesystem in MG_IO_SIZE pieces as the send buffer drains,
 * so files of any size go out of a 2 KB buffer.
 */
export function mg_http_serve_file(c: mg_connection, hm: mg_http_message, path: string, opts: mg_http_serve_opts): void {
  const fs = opts.fs ?? fs_state().fs;
  const st = c.proto as HttpConn;
  if (fs === null) {
    mg_http_reply(c, 500, "", "no filesystem\n");
    return;
  }
  const info = new mg_fs_stat();
  let gz = false;
  let real = path;
  if (accepts_gzip(hm) && (fs.st(path + ".gz", info) & MG_FS_DIR) === 0 && fs.st(path + ".gz", info) !== 0) {
    gz = true;
    real = path + ".gz";
  } else if (fs.st(path, info) === 0 || (fs.st(path, null) & MG_FS_DIR) !== 0) {
    if (opts.page404 !== null && path !== opts.page404 && fs.st(opts.page404, info) !== 0) {
      const fd = fs.op(opts.page404, MG_FS_READ);
      if (fd !== null) return start_file(c, st, fs, fd, 404, info.size, mg_http_mime_type(opts.page404, opts.mime_types), "", opts.extra_headers, false);
    }
    mg_http_reply(c, 404, "", "Not found\n");
    return;
  }
  const etag = '"' + info.mtime + "." + info.size + '"'; // Mongoose's form
  const inm = mg_http_get_header(hm, "If-None-Match");
  const mime = mg_http_mime_type(path, opts.mime_types);
  let hdrs = "Content-Type: " + mime + "\r\nEtag: " + etag + "\r\n" + (gz ? "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n" : "");
  if (inm !== null && inm.toString().toLowerCase() === etag.toLowerCase()) {
    mg_http_reply(c, 304, hdrs + opts.extra_headers, "");
    return;
  }
  let code = 200;
  let start = 0;
  let size = info.size;
  const range = mg_http_get_header(hm, "Range");
  if (range !== null) {
    const r = parse_range(range.toString(), info.size);
    if (r === null) {
      mg_http_reply(c, 416, "Content-Range: bytes */" + info.size + "\r\n" + opts.extra_headers, "");
      return;
    }
    if (r.length === 2) {
      code = 206;
      start = r[0];
      size = r[1] - r[0] + 1;
      hdrs += "Content-Range: bytes " + r[0] + "-" + r[1] + "/" + info.size + "\r\n";
    }
  }
  const fd = fs.op(real, MG_FS_READ);
  if (fd === null) {
    mg_http_reply(c, 404, "", "Not found\n");
    return;
  }
  if (start > 0 && !fs.sk(fd, start)) {
    fs.cl(fd);
    mg_http_reply(c, 500, "", "seek failed\n");
    return;
  }
  start_file(c, st, fs, fd, code, size, "", hdrs, opts.extra_headers, true);
}

/**
 * A Range header against a file of `size` bytes: [first, last] to serve, []
 * to ignore it (serve everything: unparsable or several ranges, as RFC 9110
 * allows), or null for 416.
 */
function parse_range(v: string, size: number): number[] | null {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(v);
  if (m === null) return [];
  if (m[1] === "" && m[2] === "") return [];
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return null;
    return [n >= size ? 0 : size - n, size - 1];
  }
  const a = Number(m[1]);
  let b = m[2] === "" ? size - 1 : Number(m[2]);
  if (a >= size || b < a) return null;
  if (b >= size) b = size - 1;
  return [a, b];
}

function start_file(c: mg_connection, st: HttpConn, fs: mg_fs, fd: any, code: number, size: number, mime: string, hdrs: string, extra: string, has_type: boolean): void {
  const type = has_type ? "" : "Content-Type: " + mime + "\r\n";
  const conn = st.close_after ? "Connection: close\r\n" : "";
  const n = mg_printf(c, "HTTP/1.1 %d %s\r\n%s%s%s%sContent-Length: %d\r\nAccept-Ranges: bytes\r\n\r\n", code, mg_http_status_reason(code), type, hdrs, extra, conn, size);
  if (n === 0) {
    fs.cl(fd);
    mg_http_reply(c, 500, "", "headers too large\n");
    return;
  }
  if (st.is_head_req || size === 0) {
    fs.cl(fd);
    c.is_resp = false;
    return;
  }
  st.file = fd;
  st.file_fs = fs;
  st.file_left = size;
  serve_pump(c, st);
}

/** Moves the next piece of the file into the send buffer. */
export function serve_pump(c: mg_connection, st: HttpConn): void {
  const s = c.send;
  const fs = st.file_fs as mg_fs;
  while (st.file_left > 0 && s.len < s.size) {
    let n = s.size - s.len;
    if (n > st.file_left) n = st.file_left;
    const got = fs.rd(st.file, s.buf, s.len, n);
    if (got <= 0) {
      // the file shrank under us: the length was promised, so the connection must go
      serve_close(st);
      c.is_draining = true;
      c.is_resp = false;
      return;
    }
    s.len += got;
    st.file_left -= got;
  }
  mg_mgr_kick(c.mgr);
  if (st.file_left === 0) {
    serve_close(st);
    c.is_resp = false;
  }
}

export function serve_close(st: HttpConn): void {
  if (st.file !== null) (st.file_fs as mg_fs).cl(st.file);
  st.file = null;
  st.file_fs = null;
  st.file_left = 0;
}

// --- uploads ---------------------------------------------------------------------

class UploadSink implements BodySink {
  fs: mg_fs;
  fd: any;
  path: string;
  size = 0;
  max: number;
  constructor(fs: mg_fs, fd: any, path: string, offset: number, max: number) {
    this.fs = fs;
    this.fd = fd;
    this.path = path;
    this.size = offset;
    this.max = max;
  }
  write(c: mg_connection, buf: Uint8Array, ofs: number, len: number): boolean {
    if (this.size + len > this.max) {
      this.fs.cl(this.fd);
      this.fd = null;
      mg_http_reply(c, 413, "", "over max size\n");
      return false;
    }
    const n = this.fs.wr(this.fd, buf, ofs, len);
    this.size += n > 0 ? n : 0;
    if (n !== len) {
      this.fs.cl(this.fd);
      this.fd = null;
      mg_http_reply(c, 500, "", "write failed\n");
      return false;
    }
    return true;
  }
  done(c: mg_connection, ok: boolean): void {
    if (this.fd !== null) this.fs.cl(this.fd);
    this.fd = null;
    if (ok) mg_http_reply(c, 200, "", "%d", this.size);
    else if (c.is_resp) c.is_draining = true;
  }
}

/**
 * Mongoose's upload handler: POST /upload?file=NAME&offset=N writes the body
 * into dir/NAME at offset N (0 starts the file anew), up to max_size bytes in
 * all, and replies 200 with the new size, or 400 with the reason (413 when
 * the body would pass max_size: Mongoose says 400).
 *
 * Streaming: call it on MG_EV_HTTP_HDRS and the body goes to the file piece
 * by piece as it arrives, so uploads of any size pass through MG_IO_SIZE
 * buffers; mgts replies when the body is complete. Called on MG_EV_HTTP_MSG
 * it writes the buffered body at once (Mongoose's way). Returns the bytes
 * written so far, or -1 after an error reply.
 */
export function mg_http_upload(c: mg_connection, hm: mg_http_message, fs: mg_fs, dir: string, max_size: number): number {
  const st = c.proto as HttpConn;
  const name = mg_http_get_var_str(hm.query, "file");
  const off = mg_http_get_var_str(hm.query, "offset");
  if (name === null || name.length === 0) return upload_error(c, "file required");
  if (!mg_path_is_sane_str(name) || name.indexOf("/") >= 0) return upload_error(c, "invalid file name");
  if (off === null || !/^\d+$/.test(off)) return upload_error(c, "offset required");
  const offset = Number(off);
  const path = (dir.endsWith("/") ? dir : dir + "/") + name;
  const info = new mg_fs_stat();
  const exists = fs.st(path, info) !== 0;
  if (offset > 0 && (!exists || info.size !== offset)) return upload_error(c, "offset mismatch");
  const declared = hm.body_len < 0 ? 0 : hm.body_len;
  if (offset + declared > max_size) return upload_error(c, "over max size", 413);
  if (offset === 0 && exists) fs.rm(path);
  const fd = fs.op(path, MG_FS_WRITE);
  if (fd === null) return upload_error(c, "cannot open file");
  if (offset > 0 && !fs.sk(fd, offset)) {
    fs.cl(fd);
    return upload_error(c, "cannot seek");
  }
  const sink = new UploadSink(fs, fd, path, offset, max_size);
  if (st.in_hdrs) {
    st.stream = ST_SINK;
    st.sink = sink;
    return 0;
  }
  if (!sink.write(c, hm.body.buf, hm.body.ofs, hm.body.len)) return -1;
  sink.done(c, true);
  return hm.body.len;
}

function upload_error(c: mg_connection, why: string, code = 400): number {
  // on MG_EV_HTTP_HDRS the body is then dropped (see begin_message in http.ts)
  mg_http_reply(c, code, "", "%s\n", why);
  return -1;
}
