// TLS and credential settings (docs/security.md): the config keys and environment variables for
// NATS and Nameko's AMQP_SSL, what each becomes for the client, and the errors for bad values.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { amqpSslFromConfig, amqpTlsSocketOptions, amqpUriForTls } from "../../../amqp/tls";
import { ConfigurationError } from "../../../compat/errors";
import { configFromObject } from "../../../src/config/load-config";
import { natsOptions } from "../../../src/nats/connection";

describe("NATS TLS and credentials config", () => {
  let dir: string;
  const file = (name: string, text: string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "cliff-tls-config-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads NATS_OPTIONS.tls and hands the PEM contents to nats.js", () => {
    const ca = file("ca.pem", "CA PEM");
    const cert = file("c.pem", "CERT PEM");
    const key = file("c.key", "KEY PEM");
    const config = configFromObject(
      { NATS_OPTIONS: { tls: { ca_file: ca, cert_file: cert, key_file: key, handshake_first: true } } },
      {},
    );
    expect(config.nats.tls).toEqual({ caFile: ca, certFile: cert, keyFile: key, handshakeFirst: true });
    expect(natsOptions(config).tls).toEqual({ ca: "CA PEM", cert: "CERT PEM", key: "KEY PEM", handshakeFirst: true });
  });

  it("takes the `nats` command's environment variables for keys the file leaves out", () => {
    const env = {
      NATS_CA: "/env/ca.pem",
      NATS_CERT: "/env/c.pem",
      NATS_KEY: "/env/c.key",
      NATS_CREDS: "/env/u.creds",
      NATS_NKEY: "/env/u.nk",
      NATS_USER: "u",
      NATS_PASSWORD: "p",
      NATS_TOKEN: "t",
    };
    const config = configFromObject({ NATS_OPTIONS: { tls: { ca_file: "/file/ca.pem" }, user: "file-user" } }, env);
    expect(config.nats).toMatchObject({
      tls: { caFile: "/file/ca.pem", certFile: "/env/c.pem", keyFile: "/env/c.key" },
      credsFile: "/env/u.creds",
      nkeyFile: "/env/u.nk",
      user: "file-user",
      pass: "p",
      token: "t",
    });
  });

  it("asks for no TLS options when none is configured", () => {
    const config = configFromObject({}, {});
    expect(config.nats.tls).toBeUndefined();
    expect(natsOptions(config).tls).toBeUndefined();
  });

  it("refuses a client certificate without its key", () => {
    expect(() => configFromObject({ NATS_OPTIONS: { tls: { cert_file: "/c.pem" } } }, {})).toThrow(
      "NATS_OPTIONS.tls needs both cert_file and key_file",
    );
  });

  it("names the key of a file that cannot be read", () => {
    const config = configFromObject({ NATS_OPTIONS: { creds_file: path.join(dir, "missing.creds") } }, {});
    expect(() => natsOptions(config)).toThrow(ConfigurationError);
    expect(() => natsOptions(config)).toThrow(/^Cannot read NATS_OPTIONS.creds_file .*missing.creds: /);
  });

  it("turns an nkey seed file into an authenticator", () => {
    // The seed is only decoded when a server asks for a signature; this checks the wiring.
    const nkey = file("u.nk", "SUAMK2FG4MI6UE3ACF3FK3OIQBCEIEZV7NSWFFEW63UXMRLFM2XLAXK4GY\n");
    const options = natsOptions(configFromObject({ NATS_OPTIONS: { nkey_file: nkey } }, {}));
    expect(options.authenticator).toHaveLength(1);
  });
});

describe("AMQP_SSL", () => {
  it("reads Nameko's keys; cert_reqs as Python's number or name", () => {
    expect(amqpSslFromConfig({ ca_certs: "/ca.pem", certfile: "/c.pem", keyfile: "/c.key", cert_reqs: 2 }, {})).toEqual(
      {
        caCerts: "/ca.pem",
        certfile: "/c.pem",
        keyfile: "/c.key",
        verify: true,
        serverHostname: undefined,
      },
    );
    expect(amqpSslFromConfig({ cert_reqs: 0 }, {})?.verify).toBe(false);
    expect(amqpSslFromConfig({ cert_reqs: "ssl.CERT_NONE" }, {})?.verify).toBe(false);
    expect(amqpSslFromConfig({ cert_reqs: "CERT_OPTIONAL" }, {})?.verify).toBe(true);
    // Unset, the broker's certificate is verified (py-amqp 5's default).
    expect(amqpSslFromConfig(true, {})).toMatchObject({ verify: true });
  });

  it("is off when neither the config nor the environment asks for it, and can come from the environment", () => {
    expect(amqpSslFromConfig(undefined, {})).toBeUndefined();
    expect(amqpSslFromConfig(false, { AMQP_SSL_CA_CERTS: "/ca.pem" })).toBeUndefined();
    expect(amqpSslFromConfig(undefined, { AMQP_SSL_CA_CERTS: "/ca.pem", AMQP_SSL_CERT_REQS: "2" })).toMatchObject({
      caCerts: "/ca.pem",
      verify: true,
    });
  });

  it("refuses keys it does not honour and bad cert_reqs, naming the key", () => {
    expect(() => amqpSslFromConfig({ ciphers: "ALL" }, {})).toThrow("Config key AMQP_SSL.ciphers is not supported");
    expect(() => amqpSslFromConfig({ cert_reqs: 7 }, {})).toThrow(/AMQP_SSL.cert_reqs must be/);
    expect(() => amqpSslFromConfig("yes", {})).toThrow("Config key AMQP_SSL must be true or a mapping");
    expect(() => amqpSslFromConfig({ keyfile: "/k" }, {})).toThrow("AMQP_SSL.keyfile needs AMQP_SSL.certfile");
  });

  it("switches amqp:// to amqps:// when AMQP_SSL is set, as kombu does", () => {
    const ssl = { verify: true };
    expect(amqpUriForTls("amqp://u:p@h:5671/v", ssl)).toBe("amqps://u:p@h:5671/v");
    expect(amqpUriForTls("amqp://u:p@h/v", undefined)).toBe("amqp://u:p@h/v");
    expect(amqpUriForTls("amqps://h/", undefined)).toBe("amqps://h/");
  });

  it("gives amqplib the PEM contents, and no verification for CERT_NONE", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cliff-amqp-ssl-"));
    try {
      const both = path.join(dir, "client.pem");
      writeFileSync(both, "CERT AND KEY");
      // Python's ssl reads the key from certfile when keyfile is not given.
      expect(amqpTlsSocketOptions({ certfile: both, verify: false })).toEqual({
        cert: "CERT AND KEY",
        key: "CERT AND KEY",
        rejectUnauthorized: false,
      });
      expect(() => amqpTlsSocketOptions({ caCerts: path.join(dir, "none.pem"), verify: true })).toThrow(
        /^Cannot read AMQP_SSL.ca_certs .*none.pem: /,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
