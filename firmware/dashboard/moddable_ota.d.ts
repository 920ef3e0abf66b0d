// Moddable's ESP32 OTA module ($(MODDABLE)/modules/base/ota on esp32), which
// @moddable/typings does not declare: just what firmware/dashboard/board_moddable.ts uses.
// new OTA() erases the next OTA partition; write() appends; complete() checks
// the image and makes it the boot partition; cancel() abandons it.
declare module "esp32/ota" {
  export default class OTA {
    constructor(options?: { byteLength?: number });
    write(data: ArrayBuffer): void;
    complete(): void;
    cancel(): void;
  }
}
