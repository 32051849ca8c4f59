/** Broker addresses and the per-run naming every case uses, so runs never collide. */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";

/** NATS URL for every process of the bench (env NATS_URL overrides). */
export const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

/** RabbitMQ URL for every process of the bench (env AMQP_URI overrides, as Nameko reads it). */
export const AMQP_URI = process.env.AMQP_URI ?? "amqp://guest:guest@127.0.0.1:5672";

/**
 * Socket options for every amqplib connection: without noDelay a round trip waits on Nagle's
 * algorithm and delayed acks (about 40 ms per call on these machines).
 */
export const AMQP_SOCKET_OPTIONS = { noDelay: true } as const;

/**
 * Write batching on the sockets of the bench's Cliffracer processes (docs/write-batching.md):
 * BENCH_WRITE_BATCHING=off turns it off in the runtime's and the bridge's connections, for a
 * paired on/off run. The bench's plain nats.js and amqplib processes never have it.
 */
export const WRITE_BATCHING = process.env.BENCH_WRITE_BATCHING !== "off";

/** A short random token: lower-case letters and digits only, so it is valid in every name we build. */
export function randomToken(length = 8): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/**
 * The Python that runs Nameko 2.14.1 for the Nameko reference case (NAMEKO_PYTHON overrides), and
 * the PYTHONPATH that makes `import nameko` work with it (NAMEKO_PYTHONPATH overrides; by default a
 * source checkout at /work/nameko-local, as on the team's machines, when there is one).
 */
export const NAMEKO_PYTHON =
  process.env.NAMEKO_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");

/** See NAMEKO_PYTHON. */
export const NAMEKO_PYTHONPATH =
  process.env.NAMEKO_PYTHONPATH ??
  (existsSync("/work/nameko-local/nameko") ? "/work/nameko-local:/work/nameko-local/egg" : "");
