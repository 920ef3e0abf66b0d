// Test certificates, made at test time with Debian's openssl CLI (not a
// suite itself): a test CA; a server certificate for localhost and
// 127.0.0.1; the same name expired; one for another name; one from a CA
// nobody trusts; a client certificate for mutual TLS; and DER copies of the
// CA, the server certificate and its key. RSA keys, as Moddable's TLS stack
// (TLS 1.2, RSA and ECDHE_RSA key exchange) takes them too.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface test_certs {
  dir: string;
  ca: string; // PEM
  key: string; // the server's (and the other leaf certificates') key, PEM
  server: string; // localhost, 127.0.0.1; from ca
  expired: string; // localhost, 127.0.0.1; from ca; valid in January 2020
  other: string; // other.example; from ca
  rogue: string; // localhost, 127.0.0.1; from rogue_ca, which nobody trusts
  rogue_ca: string;
  client: string; // CN=device-1, clientAuth; from ca (key: key)
  ca_der: Uint8Array;
  server_der: Uint8Array;
  key_der: Uint8Array; // PKCS#8
  /** Files, for curl and openssl: ca.pem, key.pem, server.pem, rogue.pem, client.pem... */
  file(name: string): string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

const CA_CNF = `[ca]
default_ca = t
[t]
dir = .
database = db/index.txt
serial = db/serial
new_certs_dir = db
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[p]
commonName = supplied
`;

/** Makes the set in a fresh temporary folder (about a second: three RSA keys). */
export function make_certs(): test_certs {
  const dir = mkdtempSync(join(tmpdir(), "mgts-tls-"));
  const ca_ext = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"];
  const san = "subjectAltName=DNS:localhost,IP:127.0.0.1";
  for (const k of ["ca.key", "rogue_ca.key", "key.pem"]) openssl(dir, ["genrsa", "-out", k, "2048"]);
  openssl(dir, ["req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "3650", "-subj", "/CN=mgts test CA", ...ca_ext, "-out", "ca.pem"]);
  openssl(dir, ["req", "-x509", "-new", "-key", "rogue_ca.key", "-sha256", "-days", "3650", "-subj", "/CN=rogue CA", ...ca_ext, "-out", "rogue_ca.pem"]);
  /** A leaf certificate for key.pem with these extensions, signed by a CA. */
  const leaf = (out: string, cn: string, ext: string, ca: string) => {
    writeFileSync(join(dir, out + ".ext"), ext + "\nbasicConstraints=CA:FALSE\n");
    openssl(dir, ["req", "-new", "-key", "key.pem", "-subj", "/CN=" + cn, "-out", out + ".csr"]);
    openssl(dir, ["x509", "-req", "-in", out + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial", "-days", "825", "-sha256", "-extfile", out + ".ext", "-out", out + ".pem"]);
  };
  leaf("server", "localhost", san + "\nextendedKeyUsage=serverAuth", "ca");
  leaf("other", "other.example", "subjectAltName=DNS:other.example\nextendedKeyUsage=serverAuth", "ca");
  leaf("rogue", "localhost", san + "\nextendedKeyUsage=serverAuth", "rogue_ca");
  leaf("client", "device-1", "extendedKeyUsage=clientAuth", "ca");
  // Dates in the past need `openssl ca` (x509 -req cannot set them in OpenSSL 3.0)
  mkdirSync(join(dir, "db"));
  writeFileSync(join(dir, "db/index.txt"), "");
  writeFileSync(join(dir, "db/serial"), "1000\n");
  writeFileSync(join(dir, "ca.cnf"), CA_CNF);
  openssl(dir, ["req", "-new", "-key", "key.pem", "-subj", "/CN=localhost", "-addext", san, "-out", "expired.csr"]);
  openssl(dir, ["ca", "-batch", "-config", "ca.cnf", "-in", "expired.csr", "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-notext", "-out", "expired.pem"]);
  openssl(dir, ["x509", "-in", "ca.pem", "-outform", "der", "-out", "ca.der"]);
  openssl(dir, ["x509", "-in", "server.pem", "-outform", "der", "-out", "server.der"]);
  openssl(dir, ["pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "der", "-out", "key.der"]);
  const text = (f: string) => readFileSync(join(dir, f), "latin1");
  const bytes = (f: string) => new Uint8Array(readFileSync(join(dir, f)));
  return {
    dir,
    ca: text("ca.pem"),
    key: text("key.pem"),
    server: text("server.pem"),
    expired: text("expired.pem"),
    other: text("other.pem"),
    rogue: text("rogue.pem"),
    rogue_ca: text("rogue_ca.pem"),
    client: text("client.pem"),
    ca_der: bytes("ca.der"),
    server_der: bytes("server.der"),
    key_der: bytes("key.der"),
    file: (name: string) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
