/**
 * TLS and credentials for the connections the side-by-side tools open (docs/security.md): the same
 * NATS settings and Nameko `AMQP_SSL` as services and the bridge, from the config file and the
 * environment, so `record`, `replay`, `compare` and a shadow reach servers that require them.
 */
import type { ConnectionOptions } from "@nats-io/transport-node";
import { amqpSslFromConfig, type AmqpSsl } from "../amqp";
import { defaultConfig, type NatsConfig } from "../src";
import { natsOptions, type RuntimeConfig } from "../src/internal";

/** What a side-by-side connection needs beyond its URL. */
export interface Credentials {
  /** NATS settings: user, password, token, TLS, creds file, nkey (`NATS_OPTIONS`). */
  nats?: NatsConfig;
  /** Nameko's `AMQP_SSL`, validated. */
  amqpSsl?: AmqpSsl;
}

/** The credentials a loaded configuration names (file keys first, then the environment). */
export function credentialsOf(config: RuntimeConfig, env: NodeJS.ProcessEnv = process.env): Credentials {
  return { nats: config.nats, amqpSsl: amqpSslFromConfig(config.raw.AMQP_SSL, env) };
}

/** nats.js options for `natsUrl`, built as services build theirs, with the credentials' settings. */
export function natsConnectOptions(natsUrl: string, name: string, credentials?: Credentials): ConnectionOptions {
  return natsOptions({ natsUrl, nats: credentials?.nats ?? defaultConfig().nats }, name);
}
