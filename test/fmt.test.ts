// printf: mg_snprintf into a byte buffer with C's semantics, %m/%M with the
// printers, mg_mprintf, and mg_printf into a connection. Runs on Node and XS.
// Vectors from Mongoose's test_str (mongoose-facts.md 1.5) and from C.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock } from "../hal/mock.js";
import {
  MG_ESC,
  mg_mprintf,
  mg_print_base64,
  mg_print_esc,
  mg_print_hex,
  mg_print_html_esc,
  mg_print_ip,
  mg_print_ip4,
  mg_print_ip6,
  mg_print_ip_port,
  mg_print_mac,
  mg_snprintf,
  mg_va,
  mg_vsnprintf,
  mg_vxprintf,
  mg_xout,
  mg_xprintf,
  mg_xputb,
  mg_xputc,
  mg_xputs,
  type mg_pm_t,
} from "../src/fmt.js";
import { MG_EV_ACCEPT, mg_addr, mg_listen, mg_mgr, mg_mgr_init, mg_mgr_free, mg_printf, mg_send, mg_connection } from "../src/net.js";
import { MG_IO_SIZE } from "../src/config.js";
import { mg_str, mg_str_n, mg_utf8_decode, mg_utf8_encode } from "../src/str.js";

const BUF = new Uint8Array(4096);
/** Formats with mg_snprintf and checks that the return value is the length. */
function f(fmt: string, ...args: any[]): string {
  const n = mg_snprintf(BUF, BUF.length, fmt, ...args);
  const s = mg_utf8_decode(BUF, 0, n);
  assert.is(BUF[n], 0, "NUL after the output");
  return s;
}

test("mg_snprintf: truncation returns the would-be length, NUL only where it fits", () => {
  const b = new Uint8Array(8).fill(120);
  assert.is(mg_snprintf(b, 3, "%s", "0123456789"), 10);
  assert.equal(Array.from(b.slice(0, 4)), [48, 49, 0, 120]);
  b.fill(120);
  assert.is(mg_snprintf(b, 0, "%s", "abc"), 3);
  assert.is(b[0], 120, "len 0 writes nothing");
  assert.is(mg_snprintf(b, 4, "abc"), 3);
  assert.equal(Array.from(b.slice(0, 4)), [97, 98, 99, 0]);
  assert.is(mg_snprintf(b, 100, "%s", "0123456789"), 10, "len is clamped to the buffer");
  assert.is(b[7], 0);
  assert.is(mg_snprintf(new Uint8Array(0), 10, "x%dy", 5), 3);
});

test("%c %s %% and plain text", () => {
  assert.is(f("hello"), "hello");
  assert.is(f("%%"), "%");
  assert.is(f("100%%!"), "100%!");
  assert.is(f("%c", 65), "A");
  assert.is(f("%c%c", 104, 105), "hi");
  assert.is(f("%c", "é"), "é", "a JS string gives its first character");
  assert.is(f("%3c|%-3c|", 97, 98), "  a|b  |");
  assert.is(f("%2c|", ""), " |", "an empty string is one empty character");
  assert.is(f("%c", "😀"), "😀");
  assert.is(f("%c", 0x141), "A", "a number is one byte");
  assert.is(f("%s", "abc"), "abc");
  assert.is(f("%s", ""), "");
  assert.is(f("%s", null), "(null)");
  assert.is(f("%s", undefined), "(null)");
  assert.is(f("%s", mg_str("view")), "view");
  assert.is(f("%s", mg_str_n(mg_utf8_encode("xxabcxx"), 2, 3)), "abc");
  assert.is(f("%s", mg_utf8_encode("bytes")), "bytes");
  assert.is(f("%s", 42), "42");
  assert.is(f("%5s|", "ab"), "   ab|");
  assert.is(f("%-5s|", "ab"), "ab   |");
  assert.is(f("%-2s|", "abc"), "abc|");
  assert.is(f("%.2s", "abc"), "ab");
  assert.is(f("%.*s", 3, "abcdef"), "abc");
  assert.is(f("%.*s", 0, "abcdef"), "");
  assert.is(f("%.*s", -1, "abc"), "abc", "a negative precision is none");
  assert.is(f("%*s|", 4, "x"), "   x|");
  assert.is(f("%*s|", -4, "x"), "x   |", "a negative width left-justifies");
  assert.is(f("%.3s", mg_str("abcdef")), "abc");
  assert.is(f("%s and %s", "é", "中"), "é and 中");
  assert.is(f("é%s中", "-"), "é-中", "non-ASCII in the format");
  assert.is(f("%s", "😀"), "😀");
  assert.is(f("%d %s"), "0 (null)", "missing arguments");
  assert.is(f("%w"), "%w", "unknown conversions print as written");
  assert.is(f("x%"), "x%");
  assert.is(f("%5"), "", "a format cut inside a conversion ends the output");
  assert.is(f("%d\u00e9%s\ud83d\ude00%c", 1, "\ud800", "\udc00"), "1é\ufffd😀\ufffd", "surrogates in the format and in arguments");
});

test("%d %i %u %x %X %o %p with flags, width, precision, length", () => {
  assert.is(f("%d", 0), "0");
  assert.is(f("%d", 42), "42");
  assert.is(f("%d", -42), "-42");
  assert.is(f("%i", 7), "7");
  assert.is(f("%d", 2147483647), "2147483647");
  assert.is(f("%d", -2147483648), "-2147483648");
  assert.is(f("%d", 1700000000000), "1700000000000", "a JS number keeps its value");
  assert.is(f("%lld", 9007199254740993n), "9007199254740993", "bigints");
  assert.is(f("%lld", -9007199254740993n), "-9007199254740993");
  assert.is(f("%d", 3.9), "3", "truncated");
  assert.is(f("%d", -3.9), "-3");
  assert.is(f("%d", NaN), "0");
  assert.is(f("%u", 42), "42");
  assert.is(f("%u", -1), "4294967295");
  assert.is(f("%lu", -1), "4294967295", "long is 32-bit, as on the ESP32");
  assert.is(f("%llu", -1), "18446744073709551615");
  assert.is(f("%zu %hd %hhd", 1, 2, 3), "1 2 3");
  assert.is(f("%x", 255), "ff");
  assert.is(f("%X", 255), "FF");
  assert.is(f("%x", -1), "ffffffff");
  assert.is(f("%llx", -1), "ffffffffffffffff");
  assert.is(f("%llX", 0x123456789abn), "123456789AB");
  assert.is(f("%x", 0x100000000), "100000000");
  assert.is(f("%#x", 255), "0xff");
  assert.is(f("%#X", 255), "0XFF");
  assert.is(f("%#x", 0), "0", "no prefix on zero, as C");
  assert.is(f("%#06x", 1), "0x0001");
  assert.is(f("%#6x|", 1), "   0x1|");
  assert.is(f("%-#6x|", 1), "0x1   |");
  assert.is(f("%o", 8), "10");
  assert.is(f("%#o", 8), "010");
  assert.is(f("%#o", 0), "0");
  assert.is(f("%p", 4096), "0x1000");
  assert.is(f("%5d|", 42), "   42|");
  assert.is(f("%-5d|", 42), "42   |");
  assert.is(f("%05d", 42), "00042");
  assert.is(f("%05d", -42), "-0042");
  assert.is(f("%-05d|", 42), "42   |", "- wins over 0");
  assert.is(f("%+d %+d", 5, -5), "+5 -5");
  assert.is(f("% d", 5), " 5");
  assert.is(f("%.3d", 5), "005");
  assert.is(f("%.3d", -5), "-005");
  assert.is(f("%8.3d|", 5), "     005|");
  assert.is(f("%08.3d|", 5), "     005|", "0 is ignored with a precision");
  assert.is(f("%.0d|", 0), "|", "precision 0 prints no zero");
  assert.is(f("%*d|", 5, 1), "    1|");
  assert.is(f("%-*d|", 3, 1), "1  |");
  assert.is(f("%.*d", 4, 7), "0007");
  assert.is(f("%2d", 12345), "12345", "width never cuts");
  assert.is(f("%ld %lld %lu", 1, 2, 3), "1 2 3");
  assert.is(f("%d%%", 50), "50%");
});

test("%f %e %g and friends, inf and nan", () => {
  assert.is(f("%f", 3.14159), "3.141590");
  assert.is(f("%.2f", 3.14159), "3.14");
  assert.is(f("%.0f", 3.7), "4");
  assert.is(f("%.1f", 1.0), "1.0");
  assert.is(f("%.2f", 1.2), "1.20");
  assert.is(f("%.3f", -0.0005), "-0.001");
  assert.is(f("%f", 0), "0.000000");
  assert.is(f("%f", -0), "-0.000000");
  assert.is(f("%.2f", 2.675), "2.67", "the double below 2.675, as C");
  assert.is(f("%8.2f|", 3.14159), "    3.14|");
  assert.is(f("%-8.2f|", 3.14159), "3.14    |");
  assert.is(f("%08.2f", -3.14159), "-0003.14");
  assert.is(f("%+.1f", 2), "+2.0");
  assert.is(f("%#.0f", 3), "3.");
  assert.is(f("%f", 1e21), "1000000000000000000000.000000");
  assert.is(f("%.1f", 123456789012.5), "123456789012.5");
  assert.is(f("%e", 12345.678), "1.234568e+04");
  assert.is(f("%E", 12345.678), "1.234568E+04");
  assert.is(f("%.2e", 0.000123), "1.23e-04");
  assert.is(f("%e", 0), "0.000000e+00");
  assert.is(f("%.0e", 5e100), "5e+100");
  assert.is(f("%g", 0), "0");
  assert.is(f("%g", 1), "1");
  assert.is(f("%g", -1), "-1");
  assert.is(f("%g", 1.5), "1.5");
  assert.is(f("%g", 1.234), "1.234");
  assert.is(f("%g", 100000), "100000");
  assert.is(f("%g", 1000000), "1e+06");
  assert.is(f("%g", 0.0001), "0.0001");
  assert.is(f("%g", 0.00001), "1e-05");
  assert.is(f("%g", 1.23456789e32), "1.23457e+32");
  assert.is(f("%g", 1 / 3), "0.333333");
  assert.is(f("%.3g", 1.2345), "1.23");
  assert.is(f("%.3g", 1234.5), "1.23e+03");
  assert.is(f("%.10g", 0.1), "0.1");
  assert.is(f("%.17g", 0.1), "0.10000000000000001");
  assert.is(f("%#g", 1), "1.00000");
  assert.is(f("%G", 1e-10), "1E-10");
  assert.is(f("%g", 999999.5), "1e+06", "rounding moves the exponent");
  assert.is(f("%f", Infinity), "inf");
  assert.is(f("%f", -Infinity), "-inf");
  assert.is(f("%f", NaN), "nan");
  assert.is(f("%g %e", Infinity, NaN), "inf nan");
  assert.is(f("%F %G", Infinity, NaN), "INF NAN");
  assert.is(f("%5f|%-5f|", Infinity, NaN), "  inf|nan  |");
  assert.is(f("%05f", -Infinity), " -inf", "no zero padding for inf");
  assert.is(f("%+f", Infinity), "+inf");
  assert.is(f("%lf", 0.5), "0.500000");
});

test("%m and %M: printers, MG_ESC", () => {
  assert.is(f("%m", ...MG_ESC("a\b\n\f\r\t\"")), '"a\\b\\n\\f\\r\\t\\""');
  assert.is(f("%m", ...MG_ESC("it's")), '"it\'s"', "' is not escaped");
  assert.is(f("%m", ...MG_ESC("a\\b/c")), '"a\\\\b/c"');
  assert.is(f("%m", ...MG_ESC("\x01\x1f")), '"\\u0001\\u001f"', "other control bytes stay valid JSON");
  assert.is(f("%m", ...MG_ESC("é中")), '"é中"', "UTF-8 passes through");
  assert.is(f("%m", ...MG_ESC(mg_str("view\n"))), '"view\\n"');
  assert.is(f("{%m:%d}", ...MG_ESC("key"), 1), '{"key":1}');
  assert.is(mg_snprintf(BUF, BUF.length, "%m", mg_print_esc, 3, "abcdef"), 5);
  assert.is(mg_utf8_decode(BUF, 0, 5), '"abc"');
  assert.is(f("%M", mg_print_esc, 0, "a\"b"), 'a\\"b', "%M adds no quotes");
  assert.is(f("%M", mg_print_esc, 2, mg_utf8_encode("x\ny")), "x\\n");
  assert.is(f("%M", mg_print_esc, 0, undefined), "", "nothing printable");
  const nine = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 0xff]);
  assert.is(mg_snprintf(BUF, BUF.length, "%m", mg_print_hex, 9, nine), 20);
  assert.is(mg_utf8_decode(BUF, 0, 20), '"0102030405060708ff"');
  assert.is(f("%M", mg_print_hex, 2, mg_str_n(nine, 7, 2)), "08ff");
  assert.is(f("%M", mg_print_hex, 99, new Uint8Array([0xab])), "ab", "len clamped to the bytes");
  const b64 = mg_utf8_encode("0\n");
  const src = new Uint8Array([48, 10, 0xfe, 103]);
  assert.ok(b64.length === 2);
  assert.is(f("%M", mg_print_base64, 1, src), "MA==");
  assert.is(f("%M", mg_print_base64, 2, src), "MAo=");
  assert.is(f("%M", mg_print_base64, 3, src), "MAr+");
  assert.is(f("%M", mg_print_base64, 4, src), "MAr+Zw==");
  assert.is(f("%m", mg_print_base64, 0, src), '""');
  assert.is(f("%M", mg_print_html_esc, 0, `<a href="x">&'</a>`), "&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt;");
  // arguments after a printer's own are still taken in order
  assert.is(f("%M-%d-%M", mg_print_hex, 1, src, 7, mg_print_hex, 1, b64), "30-7-30");
  // a user printer, reading its arguments from the cursor
  const twice: mg_pm_t = (o, ap) => {
    const s = ap.a[ap.i++] as string;
    mg_xputs(o, s);
    mg_xputc(o, 47);
    mg_xputs(o, s);
    return 2 * s.length + 1;
  };
  assert.is(f("[%M]", twice, "ab"), "[ab/ab]");
  assert.is(f("%m", twice, "x"), '"x/x"');
});

test("IP and MAC printers", () => {
  const a = new mg_addr();
  a.ip.set([192, 168, 1, 2]);
  a.port = 8080;
  assert.is(f("%M", mg_print_ip, a), "192.168.1.2");
  assert.is(f("%M", mg_print_ip_port, a), "192.168.1.2:8080");
  assert.is(f("%M", mg_print_ip4, new Uint8Array([10, 0, 0, 255])), "10.0.0.255");
  const b = new mg_addr();
  b.is_ip6 = true;
  b.ip.set([1, 0x64, 0x21, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  b.port = 3;
  assert.is(f("%M", mg_print_ip_port, b), "[164:2100:0:0:0:0:0:0]:3", "no :: compression, as Mongoose");
  assert.is(f("%M", mg_print_ip, b), "[164:2100:0:0:0:0:0:0]");
  const six = new Uint8Array(16);
  six[15] = 1;
  six[0] = 0xfe;
  six[1] = 0x80;
  assert.is(f("%M", mg_print_ip6, six), "[fe80:0:0:0:0:0:0:1]");
  assert.is(f("%m", mg_print_ip4, new Uint8Array([1, 2, 3, 4])), '"1.2.3.4"');
  assert.is(f("%M", mg_print_mac, new Uint8Array([0, 0x1a, 0x2b, 0xff, 0x10, 0x0a])), "00:1a:2b:ff:10:0a");
});

test("mg_xout sink and mg_vxprintf: the allocation-free engine", () => {
  const buf = new Uint8Array(16).fill(46);
  const o = new mg_xout(buf, 2, 4);
  const ap = new mg_va(["abcdef", 12], 0);
  assert.is(mg_vxprintf(o, "%s%d", ap), 8);
  assert.is(o.n, 8, "n counts everything");
  assert.is(ap.i, 2, "the cursor moved past both arguments");
  assert.is(mg_utf8_decode(buf, 0, 8), "..abcd..", "at most cap bytes, from ofs");
  o.n = 0;
  mg_xputb(o, mg_utf8_encode("xyz"), 1, 2);
  mg_xputc(o, 33);
  assert.is(mg_utf8_decode(buf, 2, 3), "yz!");
  const counter = new mg_xout();
  assert.is(mg_xprintf(counter, "%05d%s", 1, "é"), 7, "a sink with no buffer measures");
  const b2 = new Uint8Array(10);
  assert.is(mg_vsnprintf(b2, 10, "%d-%d", new mg_va([1, 2, 3], 1)), 3, "a cursor can start anywhere");
  assert.is(mg_utf8_decode(b2, 0, 3), "2-3");
  // a huge width from an argument costs no time once the sink is full
  const small = new Uint8Array(4);
  assert.is(mg_snprintf(small, 4, "%*d", 2000000000, 1), 2000000000);
  assert.equal(Array.from(small), [32, 32, 32, 0]);
});

test("mg_mprintf: a new string", () => {
  assert.is(mg_mprintf("%s=%d", "x", 5), "x=5");
  assert.is(mg_mprintf(""), "");
  assert.is(mg_mprintf("%m", ...MG_ESC("é\n")), '"é\\n"');
  const long = "z".repeat(5000);
  assert.is(mg_mprintf("<%s>", long), "<" + long + ">");
  // a printer that itself calls mg_snprintf (the shared scratch is busy)
  const inner: mg_pm_t = (o, ap) => {
    const b = new Uint8Array(16);
    const k = mg_snprintf(b, 16, "[%d]", ap.a[ap.i++]);
    mg_xputb(o, b, 0, k);
    return k;
  };
  assert.is(f("%s%M%s", "a", inner, 42, "b"), "a[42]b");
  assert.is(f("%s", "after"), "after", "and the scratch is free again");
});

test("mg_printf into a connection: appends, or returns 0 and appends nothing when full", () => {
  const net = new mg_mock(8, 4096);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  let server: mg_connection | null = null;
  mg_listen(mgr, "tcp://0.0.0.0:80", (c: mg_connection, ev: number) => {
    if (ev === MG_EV_ACCEPT) server = c;
  }, null);
  const p = net.client(80)!;
  net.poll(mgr, 2);
  const c = server as unknown as mg_connection;
  assert.ok(c !== null && !c.is_listening, "an accepted connection");
  assert.is(mg_printf(c, "HTTP/1.1 %d %s\r\n", 200, "OK"), 17);
  assert.is(c.send.len, 17);
  assert.is(mg_utf8_decode(c.send.buf, 0, 17), "HTTP/1.1 200 OK\r\n");
  const room = MG_IO_SIZE - c.send.len;
  assert.ok(mg_send(c, new Uint8Array(room - 3)));
  assert.is(mg_printf(c, "%s", "abcd"), 0, "4 bytes do not fit in 3");
  assert.is(c.send.len, MG_IO_SIZE - 3, "nothing appended");
  assert.is(mg_printf(c, "%d", 123), 3, "3 do");
  assert.is(c.send.len, MG_IO_SIZE);
  assert.is(mg_printf(c, ""), 0);
  // the manager's scratch is shared: a printf of a printf still works
  c.send.len = 0;
  const inner: mg_pm_t = (o, ap) => mg_xprintf(o, "<%s>", ap.a[ap.i++]);
  assert.is(mg_printf(c, "%M|%d", inner, "in", 9), 6);
  assert.is(mg_utf8_decode(c.send.buf, 0, 6), "<in>|9");
  net.poll(mgr, 2);
  assert.is(p.recv_str(), "<in>|9");
  mg_mgr_free(mgr);
});

test.run();
