// mgts-rng on an ESP32 (every esp32* board maps "mgts-rng" here): the chip's
// hardware generator. On Moddable's ESP32 platform XS's Math.random is
// c_rand(), which xs/platforms/esp/xsHost.h defines as
// (0x7fffffff & esp_random()): 31 bits of the hardware RNG per call, divided
// by 0x7fffffff. This takes 24 of them back per call. Espressif: esp_random()
// is cryptographically strong while Wi-Fi or Bluetooth runs (the dashboard's
// case), from the bootloader's entropy otherwise.
// fill(buf, ofs, len) fills len bytes of the Uint8Array buf from ofs.
export default function fill(buf, ofs, len) {
	for (let i = 0; i < len; i += 3) {
		const v = Math.round(Math.random() * 0x7fffffff);
		buf[ofs + i] = v & 255;
		if (i + 1 < len) buf[ofs + i + 1] = (v >> 8) & 255;
		if (i + 2 < len) buf[ofs + i + 2] = (v >> 16) & 255;
	}
}
