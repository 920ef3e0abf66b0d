// Filesystems (Mongoose's fs.c, fs_packed.c): the interface that
// mg_http_serve_dir, mg_http_upload and the apps read and write files through.
//
// Two implementations: mg_fs_packed (here) is a read-only filesystem over
// files packed into the firmware by tools/pack.mjs, for the device; the
// host's POSIX filesystem is hal/fs_node.ts (only hal/ may import node:fs).
//
// TypeScript adaptation: C's struct mg_fs is a table of function pointers
// and file handles are void *; here it is an interface and a handle is
// whatever the implementation returns from op() (null on failure).
import { mg_utf8_encode } from "./str.js";

/** Flags returned by st() and taken by op(), as in Mongoose. */
export const MG_FS_READ = 1;
export const MG_FS_WRITE = 2;
export const MG_FS_DIR = 4;
export const MG_FS_EXCL = 8;

/** What st() fills in: size in bytes, mtime in seconds since the epoch. */
export class mg_fs_stat {
  size = 0;
  mtime = 0;
}

export interface mg_fs {
  /** Flags of path (MG_FS_READ/WRITE/DIR), 0 when it does not exist; fills out when given. */
  st(path: string, out: mg_fs_stat | null): number;
  /** Calls fn with the name (not the path) of each entry of a directory. */
  ls(path: string, fn: (name: string, userdata: any) => void, userdata: any): void;
  /** Opens a file (MG_FS_READ, or MG_FS_WRITE to create it or write into it from offset 0; no truncation); a handle, or null. */
  op(path: string, flags: number): any;
  cl(fd: any): void;
  /** Reads up to len bytes into buf at ofs; the count, 0 at the end. */
  rd(fd: any, buf: Uint8Array, ofs: number, len: number): number;
  /** Writes len bytes from buf at ofs; the count written. */
  wr(fd: any, buf: Uint8Array, ofs: number, len: number): number;
  /** Moves to an absolute offset. */
  sk(fd: any, offset: number): boolean;
  mv(from: string, to: string): boolean;
  rm(path: string): boolean;
  mkd(path: string): boolean;
}

/** One packed file: its path ("/index.html"), bytes and mtime (seconds). */
export interface mg_packed_file {
  path: string;
  data: Uint8Array;
  mtime: number;
}

class PackedFd {
  file: mg_packed_file | null = null;
  pos = 0;
}

/** Open handles of a packed filesystem: a few, made once, reused. */
const PACKED_FDS = 8;

function packed_norm(path: string): string {
  // "./web/x" and "web/x" and "/x" all name "/x" relative to the pack's root
  let p = path;
  while (p.startsWith("./")) p = p.slice(2);
  if (p === ".") p = "";
  return p.charCodeAt(0) === 47 ? p : "/" + p;
}

/**
 * A read-only filesystem over packed files. A directory exists where it is a
 * prefix of a packed path (Mongoose's rule). root is stripped from paths
 * first, so mg_http_serve_opts.root_dir can name the folder that was packed.
 */
export class mg_fs_packed implements mg_fs {
  files: mg_packed_file[];
  root: string;
  private fds: PackedFd[] | null = null;
  constructor(files: mg_packed_file[], root = "") {
    this.files = files;
    this.root = root;
  }
  private find(path: string): mg_packed_file | null {
    const p = this.rel(path);
    for (let i = 0; i < this.files.length; i++) if (this.files[i].path === p) return this.files[i];
    return null;
  }
  private rel(path: string): string {
    let p = packed_norm(path);
    let r = this.root === "" ? "" : packed_norm(this.root);
    while (r.length > 1 && r.charCodeAt(r.length - 1) === 47) r = r.slice(0, -1); // "/web/" is "/web"
    if (r !== "" && r !== "/" && (p === r || p.startsWith(r + "/"))) p = p.slice(r.length) || "/";
    return p;
  }
  private is_dir(path: string): boolean {
    let p = this.rel(path);
    if (!p.endsWith("/")) p += "/";
    for (let i = 0; i < this.files.length; i++) if (this.files[i].path.startsWith(p)) return true;
    return false;
  }
  st(path: string, out: mg_fs_stat | null): number {
    const f = this.find(path);
    if (f !== null) {
      if (out !== null) {
        out.size = f.data.length;
        out.mtime = f.mtime;
      }
      return MG_FS_READ;
    }
    if (this.is_dir(path)) {
      if (out !== null) {
        out.size = 0;
        out.mtime = 0;
      }
      return MG_FS_DIR;
    }
    return 0;
  }
  ls(path: string, fn: (name: string, userdata: any) => void, userdata: any): void {
    let p = this.rel(path);
    if (!p.endsWith("/")) p += "/";
    const seen: string[] = [];
    for (const f of this.files) {
      if (!f.path.startsWith(p)) continue;
      const rest = f.path.slice(p.length);
      const slash = rest.indexOf("/");
      const name = slash < 0 ? rest : rest.slice(0, slash);
      if (name !== "" && seen.indexOf(name) < 0) {
        seen.push(name);
        fn(name, userdata);
      }
    }
  }
  op(path: string, flags: number): any {
    if ((flags & MG_FS_WRITE) !== 0) return null;
    const f = this.find(path);
    if (f === null) return null;
    if (this.fds === null) {
      this.fds = [];
      for (let i = 0; i < PACKED_FDS; i++) this.fds.push(new PackedFd());
    }
    for (const fd of this.fds) {
      if (fd.file === null) {
        fd.file = f;
        fd.pos = 0;
        return fd;
      }
    }
    return null;
  }
  cl(fd: any): void {
    (fd as PackedFd).file = null;
  }
  rd(fd: any, buf: Uint8Array, ofs: number, len: number): number {
    const h = fd as PackedFd;
    const f = h.file;
    if (f === null) return 0;
    let n = f.data.length - h.pos;
    if (n > len) n = len;
    for (let i = 0; i < n; i++) buf[ofs + i] = f.data[h.pos + i];
    h.pos += n;
    return n;
  }
  wr(_fd: any, _buf: Uint8Array, _ofs: number, _len: number): number {
    return 0;
  }
  sk(fd: any, offset: number): boolean {
    const h = fd as PackedFd;
    if (h.file === null || offset > h.file.data.length) return false;
    h.pos = offset;
    return true;
  }
  mv(_from: string, _to: string): boolean {
    return false;
  }
  rm(_path: string): boolean {
    return false;
  }
  mkd(_path: string): boolean {
    return false;
  }
}

/** The whole file as bytes, or null (Mongoose's mg_file_read; allocates). */
export function mg_file_read(fs: mg_fs, path: string): Uint8Array | null {
  const info = new mg_fs_stat();
  if ((fs.st(path, info) & MG_FS_DIR) !== 0) return null;
  const fd = fs.op(path, MG_FS_READ);
  if (fd === null) return null;
  const out = new Uint8Array(info.size);
  let n = 0;
  while (n < out.length) {
    const k = fs.rd(fd, out, n, out.length - n);
    if (k <= 0) break;
    n += k;
  }
  fs.cl(fd);
  return n === out.length ? out : out.slice(0, n);
}

/**
 * Writes a whole file atomically: into path + ".tmp", then renamed over path,
 * so a reset mid-write leaves the old file (Mongoose's mg_file_write).
 */
export function mg_file_write(fs: mg_fs, path: string, data: Uint8Array | string): boolean {
  const bytes = typeof data === "string" ? mg_utf8_encode(data) : data;
  const tmp = path + ".tmp";
  fs.rm(tmp); // MG_FS_WRITE keeps what a file holds (uploads resume at an offset)
  const fd = fs.op(tmp, MG_FS_WRITE);
  if (fd === null) return false;
  const n = fs.wr(fd, bytes, 0, bytes.length);
  fs.cl(fd);
  if (n !== bytes.length) {
    fs.rm(tmp);
    return false;
  }
  return fs.mv(tmp, path);
}
