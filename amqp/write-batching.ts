/**
 * Makes one amqplib connection of ours write the frames it has queued in one system call instead of
 * one per frame (docs/write-batching.md).
 *
 * amqplib's writer copies queued frames to the socket in a loop, one `socket.write()` each, from one
 * setImmediate callback; with `noDelay` every write is its own system call (2 writes per call in an
 * amqplib RPC echo server; a third of the bridge's CPU was in them). Corking the socket at the first
 * write and uncorking it from `process.nextTick`, which runs as soon as that callback returns, hands
 * Node the whole loop at once (one writev): the frames of a turn (the acks of every message handled
 * in it, a publish and its ack) leave together, and none waits for a later turn. Ordering and
 * back-pressure are unchanged, since `write()` still reports the buffered size.
 *
 * Only the socket of a connection that {@link AmqpConnection} opened changes (unless its
 * `writeBatching` option is false); amqplib itself and other connections are untouched.
 */
import type { ChannelModel } from "amqplib";
import { batchWrites, writesBatched } from "../compat";
import { amqplibWireOf } from "./amqplib-wire";

const endOfCallback = (release: () => void): void => process.nextTick(release);

/** Batches the socket writes of `model`; false when its socket cannot be found (it then works unbatched). */
export function batchAmqpWrites(model: ChannelModel): boolean {
  const wire = amqplibWireOf(model);
  if (wire) batchWrites(wire.socket, endOfCallback);
  return wire !== undefined;
}

/** True when the socket of `model` is batched. */
export function amqpWritesBatched(model: ChannelModel): boolean {
  const wire = amqplibWireOf(model);
  return wire !== undefined && writesBatched(wire.socket);
}
