// Nameko's AMQP_SSL for amqplib (docs/security.md, AMQP over TLS): Nameko hands the mapping to
// kombu and py-amqp, which wrap the socket with Python's ssl module; here the same keys become
// Node TLS socket options.
import { readFileSync } from "node:fs";
import { ConfigurationError, describeError } from "../compat";

/** Nameko's `AMQP_SSL`, validated: paths of PEM files and whether the broker's certificate is verified. */
export interface AmqpSsl {
  /** `ca_certs`: PEM file of the CA(s) the broker's certificate must chain to; default: the system's CAs. */
  caCerts?: string;
  /** `certfile`: PEM client certificate, for a broker that verifies clients. */
  certfile?: string;
  /** `keyfile`: PEM private key of the client certificate. */
  keyfile?: string;
  /** `cert_reqs`: false only for Python's `CERT_NONE` (0); `CERT_OPTIONAL` and `CERT_REQUIRED` verify. */
  verify: boolean;
  /** `server_hostname`: the name the certificate must carry, when it is not the URI's host. */
  serverHostname?: string;
}

/** Python's `ssl.CERT_NONE`, `CERT_OPTIONAL`, `CERT_REQUIRED`, as numbers or names. */
const CERT_REQS: Record<string, boolean> = {
  "0": false,
  "1": true,
  "2": true,
  cert_none: false,
  cert_optional: true,
  cert_required: true,
};

const ENV_NAMES = ["AMQP_SSL_CA_CERTS", "AMQP_SSL_CERTFILE", "AMQP_SSL_KEYFILE", "AMQP_SSL_CERT_REQS"];

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const KEYS = new Set(["ca_certs", "certfile", "keyfile", "cert_reqs", "server_hostname"]);

function path(map: Record<string, unknown>, key: string, envName: string, env: NodeJS.ProcessEnv): string | undefined {
  const v = map[key];
  if (v === undefined || v === null || v === "") return env[envName] || undefined;
  if (typeof v !== "string")
    throw new ConfigurationError(`Config key AMQP_SSL.${key} must be a file path, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * `AMQP_SSL` of a Nameko config (true, or a mapping of `ca_certs`, `certfile`, `keyfile`,
 * `cert_reqs`, `server_hostname`), completed from `AMQP_SSL_CA_CERTS`, `AMQP_SSL_CERTFILE`,
 * `AMQP_SSL_KEYFILE`, `AMQP_SSL_CERT_REQS`; undefined when neither asks for TLS.
 */
export function amqpSslFromConfig(value: unknown, env: NodeJS.ProcessEnv = process.env): AmqpSsl | undefined {
  if (value !== undefined && value !== null && typeof value !== "boolean" && !isMapping(value))
    throw new ConfigurationError(`Config key AMQP_SSL must be true or a mapping, got ${JSON.stringify(value)}`);
  if (value === false) return undefined;
  if ((value === undefined || value === null) && !ENV_NAMES.some((n) => env[n])) return undefined;
  const map = isMapping(value) ? value : {};
  for (const key of Object.keys(map))
    if (!KEYS.has(key))
      throw new ConfigurationError(`Config key AMQP_SSL.${key} is not supported (supported: ${[...KEYS].join(", ")})`);
  const ssl: AmqpSsl = {
    caCerts: path(map, "ca_certs", "AMQP_SSL_CA_CERTS", env),
    certfile: path(map, "certfile", "AMQP_SSL_CERTFILE", env),
    keyfile: path(map, "keyfile", "AMQP_SSL_KEYFILE", env),
    verify: certReqs(map.cert_reqs ?? (env.AMQP_SSL_CERT_REQS || undefined)),
    serverHostname: typeof map.server_hostname === "string" ? map.server_hostname : undefined,
  };
  if (ssl.keyfile !== undefined && ssl.certfile === undefined)
    throw new ConfigurationError("AMQP_SSL.keyfile needs AMQP_SSL.certfile (the client certificate)");
  return ssl;
}

function certReqs(v: unknown): boolean {
  if (v === undefined || v === null) return true; // py-amqp 5 verifies unless told otherwise
  const name = String(v)
    .toLowerCase()
    .replace(/^ssl\./, "");
  const verify = CERT_REQS[name];
  if (verify === undefined)
    throw new ConfigurationError(
      `Config key AMQP_SSL.cert_reqs must be 0, 1, 2 or CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED, got ${JSON.stringify(v)}`,
    );
  return verify;
}

/** Node TLS options amqplib passes to `tls.connect`. */
export interface AmqpTlsSocketOptions {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
  servername?: string;
}

function read(file: string, key: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigurationError(`Cannot read AMQP_SSL.${key} ${file}: ${describeError(err)}`);
  }
}

/** The socket options of `ssl`, the PEM files read now (their contents go to the socket only, never to a log). */
export function amqpTlsSocketOptions(ssl: AmqpSsl): AmqpTlsSocketOptions {
  return {
    ...(ssl.caCerts !== undefined ? { ca: read(ssl.caCerts, "ca_certs") } : {}),
    ...(ssl.certfile !== undefined ? { cert: read(ssl.certfile, "certfile") } : {}),
    // Python's ssl reads the key from certfile when keyfile is not given (one PEM with both).
    ...(ssl.certfile !== undefined
      ? { key: read(ssl.keyfile ?? ssl.certfile, ssl.keyfile ? "keyfile" : "certfile") }
      : {}),
    rejectUnauthorized: ssl.verify,
    ...(ssl.serverHostname !== undefined ? { servername: ssl.serverHostname } : {}),
  };
}

/** `uri` with the `amqps` scheme when `ssl` asks for TLS (kombu does the same for `amqp://` plus AMQP_SSL; port default 5671). */
export function amqpUriForTls(uri: string, ssl: AmqpSsl | undefined): string {
  if (!ssl || !uri.startsWith("amqp:")) return uri;
  return `amqps:${uri.slice("amqp:".length)}`;
}
