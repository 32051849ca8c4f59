// Start-up connection failures of either broker, worded the same way (docs/security.md, Failures at start-up).
// Pure: it reads the error objects Node's TLS layer and the broker clients produce, and does no I/O.

/**
 * A broker could not be connected to at start-up: the message names the broker, the server and
 * the reason, e.g. `nats tls://127.0.0.1:4443: certificate signed by unknown authority (...)`.
 * Thrown instead of retrying when retrying cannot help (a certificate or TLS handshake problem).
 */
export class ConnectionFailed extends Error {
  constructor(
    /** Which broker: `nats` or `amqp`. */
    readonly broker: "nats" | "amqp",
    /** The server as configured, credentials masked. */
    readonly server: string,
    /** Why, in words. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${broker} ${server}: ${reason}`, options);
    this.name = "ConnectionFailed";
  }
}

/** OpenSSL's verify codes meaning "the chain does not end at a CA we trust". */
const UNKNOWN_AUTHORITY = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
]);

/** Every other certificate verify code of Node's TLS layer, and its own TLS/SSL error codes. */
const OTHER_TLS_CODE =
  /^(CERT_|CRL_|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH|HOSTNAME_MISMATCH|ERROR_IN_|ERR_TLS_|ERR_SSL_)/;

/**
 * The same failures known by their OpenSSL message, for an error that lost its `code` on the way
 * (amqplib rebuilds a socket error that is not `instanceof Error` in its realm, as under jest, from
 * its text alone).
 */
const BY_MESSAGE: ReadonlyArray<readonly [RegExp, (m: string) => string]> = [
  [
    /unable to verify the first certificate|self[- ]signed certificate|unable to get (local )?issuer certificate/i,
    (m) => `certificate signed by unknown authority (${m})`,
  ],
  [/does not match certificate's altnames/i, (m) => `certificate is not valid for this host name (${m})`],
  [/certificate has expired/i, (m) => `certificate has expired (${m})`],
  [/ssl routines|ssl3_|tlsv1\d? alert|wrong version number|certificate/i, (m) => `TLS handshake failed: ${m}`],
];

/** The error and its causes, outermost first (clients wrap the socket's error). */
function chain(err: unknown): Array<{ code?: unknown; message?: unknown }> {
  const out: Array<{ code?: unknown; message?: unknown }> = [];
  for (let e = err, i = 0; e !== null && typeof e === "object" && i < 5; i++) {
    const o = e as { code?: unknown; message?: unknown; cause?: unknown };
    out.push(o);
    e = o.cause;
  }
  return out;
}

/**
 * The reason, in words, when `err` is a certificate or TLS handshake failure (which no retry
 * fixes); undefined for anything else (a refused connection, a timeout).
 */
export function tlsFailureReason(err: unknown): string | undefined {
  for (const e of chain(err)) {
    const code = typeof e.code === "string" ? e.code : "";
    const message = typeof e.message === "string" ? e.message : "";
    if (UNKNOWN_AUTHORITY.has(code)) return `certificate signed by unknown authority (${message || code})`;
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID" || code === "HOSTNAME_MISMATCH")
      return `certificate is not valid for this host name (${message || code})`;
    if (code === "CERT_HAS_EXPIRED") return `certificate has expired (${message || code})`;
    if (OTHER_TLS_CODE.test(code)) return `TLS handshake failed: ${message || code}`;
    // nats.js: the client asks for TLS (tls:// or TLS options) from a server that offers none.
    if (/does not support 'tls'/.test(message)) return "TLS required by the client, but the server offers none";
  }
  for (const e of chain(err)) {
    const message = typeof e.message === "string" ? e.message.replace(/^Error: /, "") : "";
    const known = BY_MESSAGE.find(([pattern]) => pattern.test(message));
    if (known) return known[1](message);
  }
  return undefined;
}
