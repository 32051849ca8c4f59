// When a client library no longer keeps its socket where Cliffracer looks (docs/write-batching.md,
// "The guard"), the connection is left unbatched and says so once, instead of failing.
import type { ChannelModel } from "amqplib";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodePyAmqpLongTags } from "../../../amqp/py-amqp-long";
import { batchAmqpWrites } from "../../../amqp/write-batching";
import type { Logger } from "../../../compat";
import { batchNatsWrites, natsWritesBatched } from "../../../src/nats/write-batching";

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const log = {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string) => warnings.push(message),
    error: () => undefined,
    child: () => log,
    isDebugEnabled: () => false,
  };
  return log;
}

describe("a client whose socket is not where Cliffracer looks", () => {
  it.each([
    ["no protocol", {}],
    ["no transport", { protocol: {} }],
    ["a socket that is not a net.Socket", { protocol: { transport: { socket: { write: () => true } } } }],
  ])("nats.js with %s: writes stay unbatched, with a warning", (_shape, nc) => {
    const log = recordingLogger();
    expect(batchNatsWrites(nc as unknown as NatsConnection, log)).toBe(false);
    expect(natsWritesBatched(nc as unknown as NatsConnection)).toBe(false);
    expect(log.warnings).toEqual([expect.stringMatching(/not batched/)]);
  });

  it.each([
    ["no stream", { connection: {} }],
    ["a stream that is not a net.Socket", { connection: { stream: {}, rest: Buffer.alloc(0) } }],
  ])("amqplib with %s: neither batching nor the `L` tag is applied", (_shape, model) => {
    expect(batchAmqpWrites(model as unknown as ChannelModel)).toBe(false);
    expect(decodePyAmqpLongTags(model as unknown as ChannelModel)).toBe(false);
  });
});
