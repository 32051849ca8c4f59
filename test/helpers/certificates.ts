// Certificates of a test's own, made with openssl in a temporary directory: a CA, a server
// certificate for 127.0.0.1 and localhost, a client certificate, and a second CA that signed none
// of them (the "wrong CA"). EC P-256 keys, valid for a day; about 0.2 s in all.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const OPENSSL = "openssl";

/** Paths of the PEM files, all in `dir`. */
export interface TestCertificates {
  dir: string;
  /** The CA that signed the server and client certificates. */
  ca: string;
  /** A CA that signed nothing here: trusting only it must fail. */
  wrongCa: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Deletes the directory. */
  remove(): void;
}

const KEY_ARGS = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function selfSignedCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  await run(OPENSSL, ["req", "-x509", ...KEY_ARGS, "-keyout", key, "-out", cert, "-days", "1", "-subj", `/CN=${name}`]);
  return { cert, key };
}

async function signed(
  dir: string,
  name: string,
  ca: { cert: string; key: string },
  extensions: string,
): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  await run(OPENSSL, ["req", ...KEY_ARGS, "-keyout", key, "-out", csr, "-subj", `/CN=${name}`]);
  await run(OPENSSL, [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.cert,
    "-CAkey",
    ca.key,
    "-CAcreateserial",
    "-out",
    cert,
    "-days",
    "1",
    "-extfile",
    ext,
  ]);
  return { cert, key };
}

/** Makes the CA, the wrong CA, the server and the client certificates in a new temporary directory. */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), "cliff-certs-"));
  const [ca, wrong] = await Promise.all([selfSignedCa(dir, "test-ca"), selfSignedCa(dir, "wrong-ca")]);
  const server = await signed(
    dir,
    "server",
    ca,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
  );
  const client = await signed(dir, "client", ca, "extendedKeyUsage=clientAuth\n");
  return {
    dir,
    ca: ca.cert,
    wrongCa: wrong.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
