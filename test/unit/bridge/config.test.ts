// The bridge's configuration: flags over the file over the environment over defaults.
import {
  bridgeConfigFromObject,
  DEFAULT_BRIDGE_HTTP_PORT,
  DEFAULT_AMQP_MAX_MESSAGE_BYTES,
  DEFAULT_BRIDGE_PREFETCH,
  DEFAULT_SHADOW_PREFIX,
} from "../../../bridge/config";
import { ConfigurationError } from "../../../compat";
import { defaultManagementUrl, vhostOf } from "../../../amqp";
import { ServiceDirectory } from "../../../bridge/routing/service-directory";
import { parseConfigText } from "../../../src/config/load-config";

describe("bridge config", () => {
  it("uses defaults, AMQP_URI and NATS_URL from the environment, and discovery when no service is named", () => {
    const c = bridgeConfigFromObject({}, {}, { AMQP_URI: "amqp://u:p@rabbit:5672/prod", NATS_URL: "nats://n:4222" });
    expect(c.amqpUri).toBe("amqp://u:p@rabbit:5672/prod");
    expect(c.runtime.natsUrl).toBe("nats://n:4222");
    expect(c.prefetch).toBe(DEFAULT_BRIDGE_PREFETCH);
    expect(c.http).toEqual({ port: DEFAULT_BRIDGE_HTTP_PORT, host: "0.0.0.0" });
    expect(c.rpcExchange).toBe("nameko-rpc");
    expect(c.amqpMaxMessageBytes).toBe(DEFAULT_AMQP_MAX_MESSAGE_BYTES);
    expect(c.discovery.enabled).toBe(true);
    expect(c.discovery.managementUrl).toBe("http://u:p@rabbit:15672");
    expect(c.amqpWriteBatching).toBe(true);
    expect(c.runtime.nats.writeBatching).toBe(true);
  });

  it("lets the file override the environment and the flags override the file", () => {
    const raw = parseConfigText(
      [
        "AMQP_URI: amqp://file/",
        "NATS_URL: nats://file:4222",
        "rpc_exchange: my-rpc",
        "BRIDGE:",
        "  nats_services: [users]",
        "  amqp_services: billing, mail",
        "  prefetch: 64",
        "  rpc_timeout: 2.5",
        "  amqp_max_message_size: 16777216",
        "  http_port: null",
        "  amqp_write_batching: false",
        "  DISCOVERY: { interval: 1, misses: 3 }",
        "  EVENTS: { prefetch: 32, publish_timeout: 2 }",
      ].join("\n"),
      {},
    );
    const fromFile = bridgeConfigFromObject(raw, {}, { AMQP_URI: "amqp://env/" });
    expect(fromFile).toMatchObject({
      amqpUri: "amqp://file/",
      natsServices: ["users"],
      amqpServices: ["billing", "mail"],
      rpcExchange: "my-rpc",
      prefetch: 64,
      rpcTimeoutMs: 2500,
      amqpMaxMessageBytes: 16777216,
      http: { port: null },
      amqpWriteBatching: false,
      discovery: { enabled: false, intervalMs: 1000, missesBeforeRemoval: 3 },
      events: { amqpPrefetch: 32, publishTimeoutMs: 2000 },
    });
    expect(fromFile.runtime.natsUrl).toBe("nats://file:4222");
    const fromFlags = bridgeConfigFromObject(
      raw,
      { amqpUri: "amqp://flag/", natsUrl: "nats://flag:4222", natsService: ["extra"], httpPort: 0 },
      {},
    );
    expect(fromFlags.amqpUri).toBe("amqp://flag/");
    expect(fromFlags.runtime.natsUrl).toBe("nats://flag:4222");
    expect(fromFlags.natsServices).toEqual(["users", "extra"]);
    expect(fromFlags.http.port).toBe(0);
  });

  it("refuses service names that are not one plain token, and bad values", () => {
    expect(() => bridgeConfigFromObject({}, { natsService: ["a.b"] }, {})).toThrow(/Invalid service name/);
    expect(() => bridgeConfigFromObject({}, { amqpService: ["*"] }, {})).toThrow(/wildcard/);
    expect(() => bridgeConfigFromObject({ BRIDGE: { prefetch: 0 } }, {}, {})).toThrow(/BRIDGE.prefetch/);
    expect(() => bridgeConfigFromObject({}, { amqpUri: "not a uri" }, {})).toThrow(/AMQP_URI/);
  });

  it("records handed-over requests by default, in a bucket per subject prefix kept the call timeout plus five minutes", () => {
    const plain = bridgeConfigFromObject({}, {}, {});
    expect(plain.atMostOnce).toEqual({
      enabled: true,
      bucket: "cliffracer_bridge_calls",
      ttlMs: 30_000 + 300_000,
      storage: "file",
      replicas: 1,
      maxReplyBytes: 65_536,
    });
    const tuned = bridgeConfigFromObject(
      {
        NATS_PREFIX: "team.a",
        BRIDGE: { rpc_timeout: 10, AT_MOST_ONCE: { storage: "memory", max_reply_bytes: 0, replicas: 3 } },
      },
      {},
      {},
    );
    expect(tuned.atMostOnce).toMatchObject({ bucket: "team_a_bridge_calls", ttlMs: 310_000, storage: "memory" });
    expect(tuned.atMostOnce).toMatchObject({ maxReplyBytes: 0, replicas: 3 });
    // Without a setting of its own the bucket is replicated as the events stream is.
    const cluster = bridgeConfigFromObject({ EVENTS: { replicas: 3 } }, {}, {});
    expect(cluster.atMostOnce.replicas).toBe(3);
    expect(cluster.runtime.events.replicas).toBe(3);
    const off = bridgeConfigFromObject(
      { BRIDGE: { AT_MOST_ONCE: { enabled: false, ttl: 60, bucket: "calls" } } },
      {},
      {},
    );
    expect(off.atMostOnce).toMatchObject({ enabled: false, ttlMs: 60_000, bucket: "calls" });
    expect(() => bridgeConfigFromObject({ BRIDGE: { AT_MOST_ONCE: { bucket: "a.b" } } }, {}, {})).toThrow(
      /AT_MOST_ONCE.bucket/,
    );
    expect(() => bridgeConfigFromObject({ BRIDGE: { AT_MOST_ONCE: { storage: "disk" } } }, {}, {})).toThrow(
      /AT_MOST_ONCE.storage/,
    );
  });

  it("shadows no service by default; BRIDGE.SHADOW in the file, the --shadow flags over it", () => {
    expect(bridgeConfigFromObject({}, {}, {}).shadow).toBeUndefined();
    const raw = parseConfigText(
      [
        "BRIDGE:",
        "  SHADOW:",
        "    service: orders",
        "    prefix: orders_port",
        "    rate: 0.25",
        "    timeout: 2",
        "    settle: 0.05",
        "    keep: 3",
        "    max_in_flight: 10",
        '    ignore: ["reply.result.ref", "orders.place:events[*].payload.at"]',
      ].join("\n"),
      {},
    );
    expect(bridgeConfigFromObject(raw, {}, {}).shadow).toEqual({
      service: "orders",
      prefix: "orders_port",
      rate: 0.25,
      timeoutMs: 2000,
      settleMs: 50,
      keep: 3,
      maxInFlight: 10,
      ignore: ["reply.result.ref", "orders.place:events[*].payload.at"],
    });
    const flagged = bridgeConfigFromObject(raw, { shadow: "users", shadowPrefix: "p2", shadowRate: 0.1 }, {}).shadow;
    expect(flagged).toMatchObject({ service: "users", prefix: "p2", rate: 0.1, timeoutMs: 2000 });
    expect(bridgeConfigFromObject({}, { shadow: "users" }, {}).shadow).toMatchObject({
      prefix: DEFAULT_SHADOW_PREFIX,
      rate: 1,
    });
  });

  it("refuses a shadow prefix that is the bridge's own or empty, and a rate outside (0, 1]", () => {
    const raw = parseConfigText("NATS_PREFIX: prod", {});
    expect(() => bridgeConfigFromObject(raw, { shadow: "orders", shadowPrefix: "prod" }, {})).toThrow(
      /BRIDGE\.SHADOW\.prefix must be a private subject prefix/,
    );
    expect(() => bridgeConfigFromObject({}, { shadow: "orders", shadowPrefix: "" }, {})).toThrow(ConfigurationError);
    for (const rate of [0, 1.5])
      expect(() => bridgeConfigFromObject({}, { shadow: "orders", shadowRate: rate }, {})).toThrow(
        /BRIDGE\.SHADOW\.rate must be a share greater than 0 and at most 1/,
      );
  });

  it("derives the management URL and the vhost from the AMQP URI", () => {
    expect(defaultManagementUrl("amqp://localhost")).toBe("http://guest:guest@localhost:15672");
    expect(vhostOf("amqp://guest:guest@localhost")).toBe("/");
    expect(vhostOf("amqp://guest:guest@localhost/")).toBe("/");
    expect(vhostOf("amqp://guest:guest@localhost/my%2Fvhost")).toBe("my/vhost");
  });
});

describe("bridge service directory", () => {
  it("routes a service with NATS instances from AMQP only, and AMQP-only services from NATS", () => {
    const d = new ServiceDirectory(["users"], ["billing", "users"]);
    const r = d.routes();
    expect([...r.rpcToNats]).toEqual(["users"]);
    expect([...r.rpcToAmqp]).toEqual(["billing"]);
    expect(d.sideOf("users")).toBe("both");
    expect(d.sideOf("nobody")).toBeUndefined();
  });

  it("emits change only when discovery changes something", () => {
    const d = new ServiceDirectory();
    const changes: unknown[] = [];
    d.on("change", (routes) => changes.push(routes));
    expect(d.setDiscovered("amqp", ["mail"])).toBe(true);
    expect(d.setDiscovered("amqp", ["mail"])).toBe(false);
    expect(d.setDiscovered("nats", ["mail"])).toBe(true);
    expect(changes).toHaveLength(2);
    expect([...d.routes().rpcToAmqp]).toEqual([]);
    expect([...d.routes().rpcToNats]).toEqual(["mail"]);
  });
});
