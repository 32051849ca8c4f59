// AMQP over TLS with Nameko's AMQP_SSL keys (docs/security.md, AMQP over TLS), against a RabbitMQ
// node of the test's own that requires TLS with client certificates, all made by the test
// (test/helpers/certificates.ts). A Nameko-protocol call crosses two TLS connections; a wrong CA
// fails the first connection at once with ConnectionFailed, for amqp/ and for the bridge.
import { AmqpConnection } from "../../../amqp/connection";
import { AmqpRpcClient } from "../../../amqp/rpc-client";
import { AmqpRpcServer } from "../../../amqp/rpc-server";
import { amqpSslFromConfig } from "../../../amqp/tls";
import { bridgeConfigFromObject } from "../../../bridge/config";
import { createBridge } from "../../../bridge/bridge";
import { decodeRequest, encodeReply } from "../../../compat/codec";
import { ConnectionFailed } from "../../../compat";
import { makeTestCertificates, type TestCertificates } from "../../helpers/certificates";
import { PrivateRabbitMq } from "../../helpers/private-servers";

jest.setTimeout(60_000);

describe("AMQP over TLS (AMQP_SSL)", () => {
  let certs: TestCertificates;
  let rabbit: PrivateRabbitMq;
  const opened: AmqpConnection[] = [];

  beforeAll(async () => {
    certs = await makeTestCertificates();
    rabbit = await PrivateRabbitMq.start(90_000, {
      tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, verify: true },
    });
  }, 100_000);
  afterAll(async () => {
    await Promise.allSettled(opened.map((c) => c.close()));
    await rabbit?.destroy();
    certs?.remove();
  }, 30_000);

  /** Nameko's AMQP_SSL mapping trusting `ca`, with the client certificate. */
  const amqpSsl = (ca: string): Record<string, unknown> => ({
    ca_certs: ca,
    certfile: certs.clientCert,
    keyfile: certs.clientKey,
    cert_reqs: 2,
  });

  function connection(uri: string, ssl: Record<string, unknown>): AmqpConnection {
    const conn = new AmqpConnection({ uri, ssl: amqpSslFromConfig(ssl, {}), connectionName: "tls-test" });
    opened.push(conn);
    return conn;
  }

  it("carries a Nameko RPC call when the certificates are right, for amqps:// and amqp:// with AMQP_SSL", async () => {
    // amqp:// plus AMQP_SSL means TLS, as with kombu; the port is the TLS listener's.
    const serverConn = connection(rabbit.tlsUri.replace(/^amqps:/, "amqp:"), amqpSsl(certs.ca));
    const clientConn = connection(rabbit.tlsUri, amqpSsl(certs.ca));
    await Promise.all([serverConn.start(), clientConn.start()]);
    const server = new AmqpRpcServer({
      connection: serverConn,
      service: "tls_calc",
      handler: (req) =>
        Promise.resolve(encodeReply((decodeRequest(req.body).args as number[]).reduce((a, b) => a + b))),
    });
    await server.start();
    const client = new AmqpRpcClient({ connection: clientConn, timeoutMs: 10_000 });
    await client.start();
    await expect(client.call("tls_calc", "add", [2, 3])).resolves.toBe(5);
    await client.stop();
    await server.stop();
  });

  it("fails the first connection at once with ConnectionFailed naming the broker when the CA is wrong", async () => {
    const conn = connection(rabbit.tlsUri, amqpSsl(certs.wrongCa));
    const startedAt = performance.now();
    const err = await conn.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionFailed);
    expect((err as Error).message).toBe(
      `amqp amqps://guest:***@127.0.0.1:${rabbit.tlsPort}/: certificate signed by unknown authority ` +
        "(self-signed certificate in certificate chain)",
    );
    expect(performance.now() - startedAt).toBeLessThan(5_000);
  });

  it("stops the bridge's start with ConnectionFailed when AMQP_SSL names the wrong CA", async () => {
    const config = bridgeConfigFromObject(
      {
        AMQP_URI: rabbit.tlsUri,
        AMQP_SSL: amqpSsl(certs.wrongCa),
        BRIDGE: { http_port: null, DISCOVERY: { management: false } },
      },
      {},
      {},
    );
    const bridge = createBridge(config);
    await expect(bridge.start()).rejects.toThrow(
      new ConnectionFailed("amqp", rabbit.tlsUri.replace(":guest@", ":***@"), "x").message.replace(/x$/, "") +
        "certificate signed by unknown authority (self-signed certificate in certificate chain)",
    );
  });
});
