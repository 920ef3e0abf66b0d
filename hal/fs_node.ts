// The host's filesystem for mg_http_serve_dir, uploads and settings files
// (Mongoose's fs_posix.c), over node:fs. Synchronous, as Mongoose's is: the
// pieces are at most MG_IO_SIZE bytes, read into the connection's buffer.
import * as nfs from "node:fs";
import { MG_FS_DIR, MG_FS_READ, MG_FS_WRITE, mg_fs, mg_fs_stat } from "../src/fs.js";

class NodeFd {
  fd: number;
  pos = 0;
  constructor(fd: number) {
    this.fd = fd;
  }
}

export class mg_fs_posix implements mg_fs {
  st(path: string, out: mg_fs_stat | null): number {
    try {
      const s = nfs.statSync(path);
      if (out !== null) {
        out.size = s.isDirectory() ? 0 : s.size;
        out.mtime = Math.floor(s.mtimeMs / 1000);
      }
      return s.isDirectory() ? MG_FS_DIR : MG_FS_READ | MG_FS_WRITE;
    } catch {
      return 0;
    }
  }
  ls(path: string, fn: (name: string, userdata: any) => void, userdata: any): void {
    let names: string[] = [];
    try {
      names = nfs.readdirSync(path);
    } catch {
      return;
    }
    for (const n of names) fn(n, userdata);
  }
  op(path: string, flags: number): any {
    try {
      if ((flags & MG_FS_WRITE) !== 0) {
        // writing at an offset (uploads resume) needs the file kept, not truncated
        const exists = nfs.existsSync(path);
        return new NodeFd(nfs.openSync(path, exists ? "r+" : "w+"));
      }
      if (nfs.statSync(path).isDirectory()) return null;
      return new NodeFd(nfs.openSync(path, "r"));
    } catch {
      return null;
    }
  }
  cl(fd: any): void {
    try {
      nfs.closeSync((fd as NodeFd).fd);
    } catch {
      // already closed
    }
  }
  rd(fd: any, buf: Uint8Array, ofs: number, len: number): number {
    const h = fd as NodeFd;
    try {
      const n = nfs.readSync(h.fd, buf, ofs, len, h.pos);
      h.pos += n;
      return n;
    } catch {
      return 0;
    }
  }
  wr(fd: any, buf: Uint8Array, ofs: number, len: number): number {
    const h = fd as NodeFd;
    try {
      const n = nfs.writeSync(h.fd, buf, ofs, len, h.pos);
      h.pos += n;
      return n;
    } catch {
      return 0;
    }
  }
  sk(fd: any, offset: number): boolean {
    (fd as NodeFd).pos = offset;
    return true;
  }
  mv(from: string, to: string): boolean {
    try {
      nfs.renameSync(from, to);
      return true;
    } catch {
      return false;
    }
  }
  rm(path: string): boolean {
    try {
      nfs.rmSync(path);
      return true;
    } catch {
      return false;
    }
  }
  mkd(path: string): boolean {
    try {
      nfs.mkdirSync(path, { recursive: true });
      return true;
    } catch {
      return false;
    }
  }
}

/** The POSIX filesystem, Mongoose's mg_fs_posix. */
export function mg_fs_node(): mg_fs {
  return new mg_fs_posix();
}
