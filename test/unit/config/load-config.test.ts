import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigurationError } from "../../../compat/errors";
import { DEFAULT_MAX_WORKERS, DEFAULT_NATS_URL, rpcIntakePrefixOf } from "../../../src/config/defaults";
import {
  configFromObject,
  loadConfig,
  parseConfigText,
  readConfigFile,
  substituteEnv,
} from "../../../src/config/load-config";
import { maskSecrets } from "../../../src/logging";

describe("substituteEnv", () => {
  const env = { HOST: "nats.local", EMPTY: "" };

  it("replaces ${VAR} and ${VAR:default}", () => {
    expect(substituteEnv("nats://${HOST}:4222", env)).toBe("nats://nats.local:4222");
    expect(substituteEnv("${MISSING:fallback}", env)).toBe("fallback");
    expect(substituteEnv("${HOST:fallback}", env)).toBe("nats.local");
  });

  it("keeps everything after the first colon as the default (URLs with ports and credentials)", () => {
    expect(substituteEnv("${AMQP_URI:amqp://guest:guest@localhost:5672/}", env)).toBe(
      "amqp://guest:guest@localhost:5672/",
    );
  });

  it("uses an empty string for an unset variable without default, and a set-but-empty variable as is", () => {
    expect(substituteEnv("a${MISSING}b", env)).toBe("ab");
    expect(substituteEnv("${EMPTY:default}", env)).toBe("");
  });
});

describe("parseConfigText", () => {
  it("reads a plain substituted scalar as YAML, a quoted one as a string", () => {
    const raw = parseConfigText('max_workers: ${WORKERS:4}\nflag: ${FLAG:true}\nquoted: "${WORKERS:4}"\n', {});
    expect(raw).toEqual({ max_workers: 4, flag: true, quoted: "4" });
  });

  it("substitutes inside nested mappings and lists", () => {
    const raw = parseConfigText("NATS_OPTIONS:\n  user: ${U:bob}\nlist:\n  - ${A:1}\n  - x${B:2}\n", { U: "alice" });
    expect(raw).toEqual({ NATS_OPTIONS: { user: "alice" }, list: [1, "x2"] });
  });

  it("rejects YAML that is not a mapping, and invalid YAML", () => {
    expect(() => parseConfigText("- a\n- b\n", {})).toThrow(ConfigurationError);
    expect(() => parseConfigText("a: [1, 2\n", {})).toThrow(ConfigurationError);
    expect(parseConfigText("", {})).toEqual({});
  });
});

describe("configFromObject", () => {
  it("uses defaults when nothing is given", () => {
    const config = configFromObject({}, {});
    expect(config.natsUrl).toBe(DEFAULT_NATS_URL);
    expect(config.maxWorkers).toBe(DEFAULT_MAX_WORKERS);
    expect(config.parentCallsTracked).toBe(10);
    expect(config.nats.noAsyncTraces).toBe(true);
    expect(config.nats.writeBatching).toBe(true);
    expect(config.prefix).toBe("");
  });

  it("reads NATS_URL and NATS_PREFIX from the environment when the file leaves them out", () => {
    const config = configFromObject({}, { NATS_URL: "nats://env:4222", NATS_PREFIX: "acme" });
    expect(config.natsUrl).toBe("nats://env:4222");
    expect(config.prefix).toBe("acme");
    expect(configFromObject({ NATS_URL: "nats://file:4222" }, { NATS_URL: "nats://env:4222" }).natsUrl).toBe(
      "nats://file:4222",
    );
  });

  it("reads Nameko's lower-case keys; a falsy max_workers means the default", () => {
    const config = configFromObject({ max_workers: 3, parent_calls_tracked: 2 }, {});
    expect(config.maxWorkers).toBe(3);
    expect(config.parentCallsTracked).toBe(2);
    expect(configFromObject({ max_workers: 0 }, {}).maxWorkers).toBe(DEFAULT_MAX_WORKERS);
    expect(configFromObject({ MAX_WORKERS: 3 }, {}).maxWorkers).toBe(DEFAULT_MAX_WORKERS);
  });

  it("converts timeouts from seconds and reads nested options", () => {
    const config = configFromObject(
      {
        RPC_TIMEOUT: 1.5,
        NATS_OPTIONS: { no_async_traces: false, write_batching: false, token: "t" },
        EVENTS: { max_age: 60 },
      },
      {},
    );
    expect(config.rpcTimeoutMs).toBe(1500);
    expect(config.nats.noAsyncTraces).toBe(false);
    expect(config.nats.writeBatching).toBe(false);
    expect(config.nats.token).toBe("t");
    expect(config.events.maxAgeSeconds).toBe(60);
    const events = configFromObject(
      { EVENTS: { storage: "memory", ack_wait: 5, max_ack_pending: 50, requeue_delay: 0 } },
      {},
    ).events;
    expect(events).toMatchObject({ storage: "memory", ackWaitSeconds: 5, maxAckPending: 50, requeueDelaySeconds: 0 });
    expect(() => configFromObject({ EVENTS: { storage: "tape" } }, {})).toThrow(/EVENTS.storage/);
  });

  it("reads LARGE_BODIES, on by default", () => {
    expect(configFromObject({}, {}).largeBodies).toEqual({ enabled: true, ttlSeconds: 600, storage: "file" });
    expect(
      configFromObject({ LARGE_BODIES: { enabled: false, bucket: "BODIES", ttl: 60, storage: "memory" } }, {})
        .largeBodies,
    ).toEqual({ enabled: false, bucket: "BODIES", ttlSeconds: 60, storage: "memory" });
    expect(() => configFromObject({ LARGE_BODIES: { storage: "tape" } }, {})).toThrow(/LARGE_BODIES.storage/);
  });

  it("reads METRICS_ADDRESS from the file, then the environment; unset means no metrics server", () => {
    expect(configFromObject({}, {}).metricsAddress).toBeUndefined();
    expect(configFromObject({}, { METRICS_ADDRESS: "9464" }).metricsAddress).toBe("9464");
    expect(configFromObject({ METRICS_ADDRESS: "127.0.0.1:9465" }, { METRICS_ADDRESS: "9464" }).metricsAddress).toBe(
      "127.0.0.1:9465",
    );
    expect(() => configFromObject({ METRICS_ADDRESS: "host:port" }, {})).toThrow(
      new ConfigurationError('METRICS_ADDRESS must be [host:]port, got "host:port"'),
    );
  });

  it("names the key in errors", () => {
    expect(() => configFromObject({ max_workers: "many" }, {})).toThrow(/max_workers/);
    expect(() => configFromObject({ max_workers: 2.5 }, {})).toThrow(/max_workers must be an integer/);
    expect(() => configFromObject({ NATS_OPTIONS: "x" }, {})).toThrow(/NATS_OPTIONS must be a mapping/);
    expect(() => configFromObject({ NATS_PREFIX: "a.*" }, {})).toThrow(/NATS_PREFIX/);
  });
});

describe("NATS_RPC_INTAKE_PREFIX", () => {
  it("defaults to NATS_PREFIX, so a service serves its methods where it calls others", () => {
    const config = configFromObject({ NATS_PREFIX: "acme" }, {});
    expect(config.rpcIntakePrefix).toBeUndefined();
    expect(rpcIntakePrefixOf(config)).toBe("acme");
  });

  it("is read from the file first, then the environment, independently of NATS_PREFIX", () => {
    expect(
      rpcIntakePrefixOf(configFromObject({ NATS_RPC_INTAKE_PREFIX: "port" }, { NATS_RPC_INTAKE_PREFIX: "env" })),
    ).toBe("port");
    const fromEnv = configFromObject({ NATS_PREFIX: "acme" }, { NATS_RPC_INTAKE_PREFIX: "port" });
    expect(rpcIntakePrefixOf(fromEnv)).toBe("port");
    expect(fromEnv.prefix).toBe("acme");
  });

  it("is refused with wildcards or whitespace, naming the key", () => {
    expect(() => configFromObject({ NATS_RPC_INTAKE_PREFIX: "port.>" }, {})).toThrow(
      new ConfigurationError(
        'NATS_RPC_INTAKE_PREFIX must be subject tokens without wildcards or whitespace, got "port.>"',
      ),
    );
    expect(() => configFromObject({}, { NATS_RPC_INTAKE_PREFIX: "a b" })).toThrow(/NATS_RPC_INTAKE_PREFIX/);
  });
});

describe("readConfigFile", () => {
  it("reads the mapping with ${ENV:default} substituted, for the runtime and the bridge alike", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cliffracer-config-"));
    const file = path.join(dir, "config.yaml");
    writeFileSync(file, "AMQP_URI: ${AMQP_URI:amqp://localhost}\nBRIDGE:\n  prefetch: ${PREFETCH:5}\n");
    expect(readConfigFile(file, { PREFETCH: "9" })).toEqual({ AMQP_URI: "amqp://localhost", BRIDGE: { prefetch: 9 } });
  });

  it("refuses a file it cannot read with a ConfigurationError naming it", () => {
    expect(() => readConfigFile("/nonexistent/config.yaml", {})).toThrow(ConfigurationError);
    expect(() => readConfigFile("/nonexistent/config.yaml", {})).toThrow(
      /^Cannot read config file \/nonexistent\/config.yaml: ENOENT/,
    );
  });
});

describe("loadConfig", () => {
  it("loads a file with ${ENV:default} and keeps the raw mapping for user keys", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cliffracer-config-"));
    const file = path.join(dir, "config.yaml");
    writeFileSync(file, "NATS_URL: ${NATS_URL:nats://127.0.0.1:4222}\nmax_workers: ${MAX_WORKERS:5}\nGREETING: hi\n");
    const config = loadConfig({ file, env: { MAX_WORKERS: "7" } });
    expect(config.natsUrl).toBe("nats://127.0.0.1:4222");
    expect(config.maxWorkers).toBe(7);
    expect(config.raw.GREETING).toBe("hi");
  });

  it("reports a missing file clearly", () => {
    expect(() => loadConfig({ file: "/nonexistent/config.yaml", env: {} })).toThrow(
      /Cannot read config file \/nonexistent\/config.yaml/,
    );
  });

  it("masks credentials when shown", () => {
    const config = configFromObject(
      { NATS_URL: "nats://u:pw@h:4222", NATS_OPTIONS: { pass: "pw", token: "t0ps3cret" } },
      {},
    );
    const shown = JSON.stringify(maskSecrets(config));
    expect(shown).not.toContain("pw");
    expect(shown).not.toContain("t0ps3cret");
    expect(shown).toContain("nats://u:***@h:4222");
  });
});
