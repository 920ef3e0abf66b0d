// The dashboard's board on the host simulator: the heap figures are V8's,
// settings live in a JSON file and uploads land in a folder, both through
// hal/fs_node.ts. A PC has no Wi-Fi station link or temperature sensor, so
// those two stay simulated (dash_board_sim). "Reboot" calls on_reboot (the
// launcher restarts the app).
import { mg_fs_node } from "../../hal/fs_node.js";
import { MG_FS_WRITE, mg_file_read, mg_file_write } from "../../src/fs.js";
import { mg_utf8_decode } from "../../src/str.js";
import { dash_board_sim, dash_metrics } from "./board.js";

export interface BoardNodeOptions {
  /** Where settings.json and uploads/ go. */
  dir: string;
  /** Largest upload accepted (bytes); default 64 MB. */
  upload_max?: number;
  on_reboot?: () => void;
}

export class dash_board_node extends dash_board_sim {
  override name = "node";
  fs = mg_fs_node();
  dir: string;
  settings_path: string;
  uploads: string;
  private fd: any = null;
  private tmp = "";
  private on_reboot: (() => void) | null;
  constructor(opts: BoardNodeOptions) {
    super(() => performance.now());
    this.dir = opts.dir;
    this.settings_path = opts.dir + "/settings.json";
    this.uploads = opts.dir + "/uploads";
    this.up_max = opts.upload_max ?? 64 << 20;
    this.on_reboot = opts.on_reboot ?? null;
    this.fs.mkd(this.uploads);
  }
  override metrics(out: dash_metrics): void {
    super.metrics(out);
    out.uptime_ms = Math.floor(out.uptime_ms);
    const m = process.memoryUsage();
    out.heap_total = m.heapTotal;
    out.heap_free = m.heapTotal - m.heapUsed;
  }
  override settings_load(): string | null {
    const b = mg_file_read(this.fs, this.settings_path);
    return b === null ? null : mg_utf8_decode(b, 0, b.length);
  }
  override settings_save(buf: Uint8Array, len: number): string {
    return mg_file_write(this.fs, this.settings_path, buf.slice(0, len)) ? "" : "cannot write " + this.settings_path;
  }
  /** Into uploads/NAME.part, renamed to uploads/NAME when complete: a cut upload never replaces a file. */
  override upload_begin(name: string): string {
    if (this.fd !== null) return "an upload is in progress";
    this.tmp = this.uploads + "/" + name + ".part";
    this.fs.rm(this.tmp);
    this.fd = this.fs.op(this.tmp, MG_FS_WRITE);
    if (this.fd === null) return "cannot create " + this.tmp;
    this.up_name = name;
    this.up_size = 0;
    this.up_open = true;
    return "";
  }
  override upload_write(buf: Uint8Array, ofs: number, len: number): string {
    if (this.fd === null) return "no upload in progress";
    if (this.up_size + len > this.up_max) return "file too large";
    if (this.fs.wr(this.fd, buf, ofs, len) !== len) return "write failed (disk full?)";
    this.up_size += len;
    return "";
  }
  override upload_end(commit: boolean): string {
    if (this.fd === null) return "";
    this.fs.cl(this.fd);
    this.fd = null;
    this.up_open = false;
    this.up_done = commit;
    if (!commit) {
      this.fs.rm(this.tmp);
      return "";
    }
    return this.fs.mv(this.tmp, this.uploads + "/" + this.up_name) ? "" : "cannot rename " + this.tmp;
  }
  override reboot(): void {
    this.reboots++;
    if (this.on_reboot !== null) this.on_reboot();
  }
}
