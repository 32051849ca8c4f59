// NATS over TLS, with client certificates and nkeys (docs/security.md, NATS), against a nats-server
// of the test's own that requires TLS, verifies clients and accepts one user nkey, with
// certificates and the nkey the test makes (test/helpers/certificates.ts). A service runs and is
// called with the right CA and seed; a wrong CA fails the first connection at once with
// ConnectionFailed, in the library, the bridge and `cliffracer run`, and so does a missing nkey.
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { nkeys } from "@nats-io/transport-node";
import { ClusterRpcProxy, rpc, ServiceRunner } from "cliffracer";
import { bridgeConfigFromObject } from "../../../bridge/config";
import { createBridge } from "../../../bridge/bridge";
import { ConnectionFailed, parseCassette } from "../../../compat";
import { credentialsOf, record } from "../../../sidebyside";
import { configFromObject, loadConfig } from "../../../src/config/load-config";
import { connectNats } from "../../../src/nats/connection";
import { testLogger } from "../../helpers/brokers";
import { AMQP_BASE } from "../../helpers/rabbit";
import { deferred } from "../../helpers/waiters";
import { makeTestCertificates, type TestCertificates } from "../../helpers/certificates";
import { PrivateNatsServer } from "../../helpers/private-servers";

// `cliffracer run` starts a ts-node process (a second or two).
jest.setTimeout(60_000);

const ROOT = resolve(__dirname, "../../..");
const run = promisify(execFile);

class TlsEcho {
  name = "tls_echo";

  @rpc()
  echo(value: string) {
    return { value };
  }
}

describe("NATS over TLS", () => {
  let certs: TestCertificates;
  let nats: PrivateNatsServer;
  let unknownAuthority: string;
  let seedFile: string;

  beforeAll(async () => {
    certs = await makeTestCertificates();
    const user = nkeys.createUser();
    seedFile = join(certs.dir, "user.nk");
    writeFileSync(seedFile, new TextDecoder().decode(user.getSeed()));
    nats = await PrivateNatsServer.start({
      tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, verify: true },
      nkeyUsers: [user.getPublicKey()],
    });
    unknownAuthority = `nats ${nats.url}: certificate signed by unknown authority (unable to verify the first certificate)`;
  }, 30_000);
  afterAll(async () => {
    await nats?.destroy();
    certs?.remove();
  });

  /** NATS_OPTIONS.tls trusting `ca`, with the client certificate. */
  const tlsOptions = (ca: string) => ({ ca_file: ca, cert_file: certs.clientCert, key_file: certs.clientKey });

  it("runs a service and calls it with the right CA, client certificate and nkey, from the file or the environment", async () => {
    const runner = new ServiceRunner(
      configFromObject({ NATS_URL: nats.url, NATS_OPTIONS: { tls: tlsOptions(certs.ca), nkey_file: seedFile } }, {}),
    );
    runner.addService(TlsEcho);
    await runner.start();
    try {
      // The caller's settings come from the `nats` command's environment variables instead.
      const env = {
        NATS_URL: nats.url,
        NATS_CA: certs.ca,
        NATS_CERT: certs.clientCert,
        NATS_KEY: certs.clientKey,
        NATS_NKEY: seedFile,
      };
      const proxy = await ClusterRpcProxy.connect({ config: loadConfig({ env }) });
      try {
        await expect(proxy.service("tls_echo").echo("over tls")).resolves.toEqual({ value: "over tls" });
      } finally {
        await proxy.close();
      }
    } finally {
      await runner.stop();
    }
  });

  it("fails the first connection at once with ConnectionFailed naming the server when the CA is wrong", async () => {
    const startedAt = performance.now();
    const config = configFromObject({ NATS_URL: nats.url, NATS_OPTIONS: { tls: tlsOptions(certs.wrongCa) } }, {});
    const err = await connectNats(config).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionFailed);
    expect((err as Error).message).toBe(unknownAuthority);
    expect(performance.now() - startedAt).toBeLessThan(5_000);
  });

  it("fails the first connection at once with ConnectionFailed when the server refuses the user", async () => {
    const config = configFromObject({ NATS_URL: nats.url, NATS_OPTIONS: { tls: tlsOptions(certs.ca) } }, {});
    await expect(connectNats(config)).rejects.toMatchObject({
      name: "ConnectionFailed",
      message: `nats ${nats.url}: Authorization Violation`,
    });
  });

  it("stops the bridge's start with ConnectionFailed instead of waiting for the server forever", async () => {
    const config = bridgeConfigFromObject(
      {
        AMQP_URI: `${AMQP_BASE}/`,
        NATS_URL: nats.url,
        NATS_OPTIONS: { tls: tlsOptions(certs.wrongCa) },
        BRIDGE: { http_port: null, DISCOVERY: { management: false } },
      },
      {},
      {},
    );
    await expect(createBridge(config).start()).rejects.toThrow(unknownAuthority);
  });

  it("makes `cliffracer run` exit non-zero at start-up with the reason when the CA is wrong", async () => {
    const file = join(certs.dir, "wrong-ca.yaml");
    writeFileSync(file, `NATS_URL: ${nats.url}\nNATS_OPTIONS:\n  tls:\n    ca_file: ${certs.wrongCa}\n`);
    const result = await run(
      process.execPath,
      [join(ROOT, "bin", "cliffracer.js"), "run", "examples/greeting/greeting-service.ts", "--config", file],
      { cwd: ROOT, timeout: 30_000 },
    ).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`ConnectionFailed: ${unknownAuthority}`);
  });

  it("records a service over TLS with the config's certificates, and `record` refuses a wrong CA at once", async () => {
    const config = configFromObject(
      { NATS_URL: nats.url, NATS_OPTIONS: { tls: tlsOptions(certs.ca), nkey_file: seedFile } },
      {},
    );
    const runner = new ServiceRunner(config);
    runner.addService(TlsEcho);
    await runner.start();
    const out = join(certs.dir, "tls.cassette.jsonl");
    try {
      const listening = deferred();
      const recording = record({
        side: "nats",
        services: ["tls_echo"],
        out,
        amqpUri: "",
        natsUrl: nats.url,
        credentials: credentialsOf(config, {}),
        max: 1,
        seconds: 20,
        onListening: () => listening.resolve(),
        log: testLogger(),
      });
      await listening.promise;
      const proxy = await ClusterRpcProxy.connect({ config });
      try {
        await proxy.service("tls_echo").echo("recorded");
      } finally {
        await proxy.close();
      }
      expect(await recording).toMatchObject({ calls: 1, endedBy: "max" });
      const cassette = parseCassette(readFileSync(out, "utf8"));
      expect(cassette.entries).toMatchObject([{ method: "echo", reply: { result: { value: "recorded" } } }]);
    } finally {
      await runner.stop();
    }

    const file = join(certs.dir, "record-wrong-ca.yaml");
    writeFileSync(file, `NATS_OPTIONS:\n  tls:\n    ca_file: ${certs.wrongCa}\n`);
    const result = await run(
      process.execPath,
      [
        join(ROOT, "bin", "cliffracer.js"),
        "record",
        "--side",
        "nats",
        "--nats-url",
        nats.url,
        "--service",
        "tls_echo",
        "--out",
        join(certs.dir, "never.jsonl"),
        "--config",
        file,
      ],
      { cwd: ROOT, timeout: 30_000 },
    ).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(unknownAuthority);
  });
});
