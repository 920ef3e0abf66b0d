// The simulator's TLS certificate (tools/start.mjs: the echo app's HTTPS and
// WSS on port + 3, the dashboard with --tls).
//   --cert FILE --key FILE   a certificate and key of yours (PEM or DER)
//   otherwise                build/tls/cert.pem and key.pem, made at the first
//                            start: self-signed for localhost and 127.0.0.1
// Made with the openssl command when it is there (Debian, macOS and most
// hosts have it): Node 20 can make keys but not X.509 certificates, and
// writing a certificate encoder here would be code to trust for a developer
// convenience. Without openssl: pass --cert and --key.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const TLS_DIR = "build/tls";

/** {cert, key} as bytes for mg_tls_init; throws saying what to do, or (optional) warns and gives undefined. */
export function host_tls(cert_file, key_file, optional = false) {
  try {
    return load_or_make(cert_file, key_file);
  } catch (e) {
    if (!optional) throw e;
    console.warn(`mgts: no HTTPS: ${e.message}`);
    return undefined;
  }
}

function load_or_make(cert_file, key_file) {
  if (cert_file || key_file) {
    if (!cert_file || !key_file) throw new Error("--cert and --key go together");
    return { cert: new Uint8Array(readFileSync(cert_file)), key: new Uint8Array(readFileSync(key_file)) };
  }
  const cert = join(TLS_DIR, "cert.pem");
  const key = join(TLS_DIR, "key.pem");
  if (!existsSync(cert) || !existsSync(key)) {
    mkdirSync(TLS_DIR, { recursive: true });
    try {
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "825", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (e) {
      throw new Error(`cannot make a TLS certificate (${e.code === "ENOENT" ? "no openssl command" : e.message}): install openssl or pass --cert FILE --key FILE`);
    }
    console.log(`mgts: made a self-signed certificate for localhost: ${cert} (trust it with curl --cacert ${cert})`);
  }
  return { cert: new Uint8Array(readFileSync(cert)), key: new Uint8Array(readFileSync(key)) };
}
