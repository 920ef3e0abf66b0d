// Filesystems: mg_fs_packed (st, op, rd, sk, ls; directories as path
// prefixes; root stripping) and mg_file_read / mg_file_write over it and over
// a small in-memory mg_fs. Runs on Node and XS (mongoose-facts.md 1.16).
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  MG_FS_DIR,
  MG_FS_READ,
  MG_FS_WRITE,
  mg_file_read,
  mg_file_write,
  mg_fs_packed,
  mg_fs_stat,
  type mg_fs,
  type mg_packed_file,
} from "../src/fs.js";
import { mg_utf8_decode, mg_utf8_encode } from "../src/str.js";

const enc = (s: string) => mg_utf8_encode(s);
const dec = (b: Uint8Array | null) => (b === null ? null : mg_utf8_decode(b, 0, b.length));

const FILES: mg_packed_file[] = [
  { path: "/index.html", data: enc("<h1>hi</h1>"), mtime: 1700000000 },
  { path: "/css/site.css", data: enc("body{}"), mtime: 1700000001 },
  { path: "/css/print/p.css", data: enc("p{}"), mtime: 1700000002 },
  { path: "/js/app.js", data: enc("x".repeat(1000)), mtime: 1700000003 },
  { path: "/empty.txt", data: new Uint8Array(0), mtime: 5 },
];

function ls(fs: mg_fs, path: string): string[] {
  const names: string[] = [];
  fs.ls(path, (name, ud) => {
    assert.is(ud, "ud");
    names.push(name);
  }, "ud");
  return names;
}

test("mg_fs_packed: st on files, directories (path prefixes) and missing paths", () => {
  const fs = new mg_fs_packed(FILES);
  const st = new mg_fs_stat();
  assert.is(fs.st("/index.html", st), MG_FS_READ);
  assert.is(st.size, 11);
  assert.is(st.mtime, 1700000000);
  assert.is(fs.st("/empty.txt", st), MG_FS_READ);
  assert.is(st.size, 0);
  assert.is(fs.st("/css", st), MG_FS_DIR);
  assert.is(fs.st("/css/", null), MG_FS_DIR);
  assert.is(fs.st("/css/print", null), MG_FS_DIR);
  assert.is(fs.st("/", null), MG_FS_DIR);
  assert.is(fs.st("", null), MG_FS_DIR, "the root");
  assert.is(fs.st("/cs", null), 0, "a prefix of a name is not a directory");
  assert.is(fs.st("/missing.html", null), 0);
  assert.is(fs.st("/index.html/x", null), 0);
  assert.is(fs.st("index.html", null), MG_FS_READ, "relative paths name the same files");
  assert.is(fs.st("./css/site.css", null), MG_FS_READ);
  assert.is(fs.st(".", null), MG_FS_DIR);
});

test("mg_fs_packed: root stripping", () => {
  for (const root of ["/web", "web", "./web", "/web/"]) {
    const fs = new mg_fs_packed(FILES, root);
    assert.is(fs.st("/web/index.html", null), MG_FS_READ, root);
    assert.is(fs.st("web/css/site.css", null), MG_FS_READ, root);
    assert.is(fs.st("/web", null), MG_FS_DIR, root);
    assert.is(fs.st("/web/", null), MG_FS_DIR, root);
    assert.is(fs.st("/index.html", null), MG_FS_READ, "paths without the root still work: " + root);
    assert.is(fs.st("/webx/index.html", null), 0, "only a whole directory name is stripped: " + root);
    assert.equal(ls(fs, "/web"), ["index.html", "css", "js", "empty.txt"], root);
  }
  const fs = new mg_fs_packed(FILES, "/");
  assert.is(fs.st("/index.html", null), MG_FS_READ);
});

test("mg_fs_packed: ls lists each name once, directories by prefix", () => {
  const fs = new mg_fs_packed(FILES);
  assert.equal(ls(fs, "/"), ["index.html", "css", "js", "empty.txt"]);
  assert.equal(ls(fs, ""), ["index.html", "css", "js", "empty.txt"]);
  assert.equal(ls(fs, "/css"), ["site.css", "print"]);
  assert.equal(ls(fs, "/css/"), ["site.css", "print"]);
  assert.equal(ls(fs, "/css/print"), ["p.css"]);
  assert.equal(ls(fs, "/nope"), []);
  assert.equal(ls(fs, "/index.html"), [], "a file has no entries");
});

test("mg_fs_packed: op, rd, sk, cl; read-only", () => {
  const fs = new mg_fs_packed(FILES);
  const fd = fs.op("/js/app.js", MG_FS_READ);
  assert.ok(fd !== null);
  const buf = new Uint8Array(600);
  assert.is(fs.rd(fd, buf, 0, 600), 600);
  assert.is(fs.rd(fd, buf, 100, 600), 400, "the rest");
  assert.is(fs.rd(fd, buf, 0, 600), 0, "0 at the end");
  assert.ok(fs.sk(fd, 990));
  assert.is(fs.rd(fd, buf, 0, 600), 10);
  assert.ok(fs.sk(fd, 1000), "to the very end");
  assert.not.ok(fs.sk(fd, 1001), "not past it");
  assert.ok(fs.sk(fd, 0));
  const small = new Uint8Array(6).fill(0);
  const fd2 = fs.op("/index.html", MG_FS_READ);
  assert.is(fs.rd(fd2, small, 2, 4), 4, "into an offset");
  assert.equal(Array.from(small), [0, 0, 60, 104, 49, 62]);
  fs.cl(fd);
  fs.cl(fd2);
  assert.is(fs.rd(fd, buf, 0, 10), 0, "a closed handle reads nothing");
  assert.is(fs.op("/missing", MG_FS_READ), null);
  assert.is(fs.op("/css", MG_FS_READ), null, "a directory does not open");
  assert.is(fs.op("/index.html", MG_FS_WRITE), null, "read-only");
  assert.is(fs.wr(fd, buf, 0, 1), 0);
  assert.not.ok(fs.mv("/index.html", "/x"));
  assert.not.ok(fs.rm("/index.html"));
  assert.not.ok(fs.mkd("/d"));
  assert.is(fs.st("/index.html", null), MG_FS_READ);
});

test("mg_fs_packed: a fixed set of handles, reused after cl", () => {
  const fs = new mg_fs_packed(FILES);
  const fds: any[] = [];
  for (;;) {
    const fd = fs.op("/index.html", MG_FS_READ);
    if (fd === null) break;
    fds.push(fd);
    assert.ok(fds.length <= 64, "bounded");
  }
  assert.ok(fds.length >= 4, "a few at once: " + fds.length);
  fs.cl(fds[1]);
  const again = fs.op("/empty.txt", MG_FS_READ);
  assert.is(again, fds[1], "the freed handle is reused, no new object");
  assert.is(fs.rd(again, new Uint8Array(4), 0, 4), 0);
  for (const fd of fds) fs.cl(fd);
});

/** A small in-memory filesystem, to test mg_file_write's write-then-rename. */
class mem_fs implements mg_fs {
  files = new Map<string, Uint8Array>();
  ops: string[] = [];
  fail_write_after = -1; // bytes a write accepts before failing (a full disk)
  st(path: string, out: mg_fs_stat | null): number {
    const f = this.files.get(path);
    if (f === undefined) return 0;
    if (out !== null) {
      out.size = f.length;
      out.mtime = 0;
    }
    return MG_FS_READ | MG_FS_WRITE;
  }
  ls(): void {}
  op(path: string, flags: number): any {
    this.ops.push(`op ${path} ${flags}`);
    if ((flags & MG_FS_WRITE) !== 0 && !this.files.has(path)) this.files.set(path, new Uint8Array(0));
    return this.files.has(path) ? { path, pos: 0 } : null;
  }
  cl(fd: any): void {
    this.ops.push(`cl ${fd.path}`);
  }
  rd(fd: any, buf: Uint8Array, ofs: number, len: number): number {
    const f = this.files.get(fd.path)!;
    const n = Math.min(len, f.length - fd.pos, 3); // short reads: callers must loop
    for (let i = 0; i < n; i++) buf[ofs + i] = f[fd.pos + i];
    fd.pos += n;
    return n;
  }
  wr(fd: any, buf: Uint8Array, ofs: number, len: number): number {
    let n = len;
    if (this.fail_write_after >= 0 && n > this.fail_write_after) n = this.fail_write_after;
    const old = this.files.get(fd.path)!;
    const f = new Uint8Array(Math.max(old.length, fd.pos + n));
    f.set(old);
    for (let i = 0; i < n; i++) f[fd.pos + i] = buf[ofs + i];
    this.files.set(fd.path, f);
    fd.pos += n;
    return n;
  }
  sk(fd: any, offset: number): boolean {
    fd.pos = offset;
    return true;
  }
  mv(from: string, to: string): boolean {
    this.ops.push(`mv ${from} ${to}`);
    const f = this.files.get(from);
    if (f === undefined) return false;
    this.files.delete(from);
    this.files.set(to, f);
    return true;
  }
  rm(path: string): boolean {
    this.ops.push(`rm ${path}`);
    return this.files.delete(path);
  }
  mkd(): boolean {
    return false;
  }
}

test("mg_file_read: the whole file, through short reads; null for missing and directories", () => {
  const packed = new mg_fs_packed(FILES);
  assert.is(dec(mg_file_read(packed, "/index.html")), "<h1>hi</h1>");
  assert.is(mg_file_read(packed, "/js/app.js")!.length, 1000);
  assert.is(mg_file_read(packed, "/empty.txt")!.length, 0);
  assert.is(mg_file_read(packed, "/missing"), null);
  assert.is(mg_file_read(packed, "/css"), null);
  const mem = new mem_fs();
  mem.files.set("/a.txt", enc("hello, world"));
  assert.is(dec(mg_file_read(mem, "/a.txt")), "hello, world", "3 bytes a read");
  assert.ok(mem.ops.includes("cl /a.txt"), "the handle is closed");
});

test("mg_file_write: into path.tmp, then renamed over path", () => {
  const mem = new mem_fs();
  mem.files.set("/cfg.json", enc('{"old":true}'));
  mem.files.set("/cfg.json.tmp", enc("stale leftover from a reset, longer than the new data"));
  assert.ok(mg_file_write(mem, "/cfg.json", '{"new":1}'));
  assert.is(dec(mem.files.get("/cfg.json")!), '{"new":1}', "a stale .tmp does not leak into the file");
  assert.not.ok(mem.files.has("/cfg.json.tmp"));
  assert.equal(mem.ops, ["rm /cfg.json.tmp", "op /cfg.json.tmp 2", "cl /cfg.json.tmp", "mv /cfg.json.tmp /cfg.json"]);
  assert.ok(mg_file_write(mem, "/bin", new Uint8Array([0, 255, 7])));
  assert.equal(Array.from(mem.files.get("/bin")!), [0, 255, 7]);
  assert.ok(mg_file_write(mem, "/u.txt", "é"));
  assert.equal(Array.from(mem.files.get("/u.txt")!), [0xc3, 0xa9], "strings are written as UTF-8");
  // a short write (disk full) leaves the old file and no .tmp
  mem.fail_write_after = 2;
  assert.not.ok(mg_file_write(mem, "/cfg.json", "a longer replacement"));
  assert.is(dec(mem.files.get("/cfg.json")!), '{"new":1}');
  assert.not.ok(mem.files.has("/cfg.json.tmp"));
  // a read-only filesystem refuses
  assert.not.ok(mg_file_write(new mg_fs_packed(FILES), "/index.html", "x"));
  assert.is(dec(mg_file_read(new mg_fs_packed(FILES), "/index.html")), "<h1>hi</h1>");
});

test.run();
