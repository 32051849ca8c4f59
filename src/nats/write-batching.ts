/**
 * Makes one NATS connection of ours write what it sends during one turn of the event loop in one
 * system call (docs/write-batching.md).
 *
 * nats.js flushes its outbound buffer from a microtask queued by the first command after a write,
 * so commands issued in different microtask checkpoints of one turn (a worker's acks, then the pull
 * request its finish triggered; replies released one after another) leave in separate
 * `socket.write()` calls. On loopback each write is a system call that also runs the receiver's TCP
 * path: it was the largest item in the event handler's and the bridge's profiles (BENCHMARKS.md).
 * Corking the socket at the first write of a turn and uncorking it from setImmediate hands Node
 * every frame of the turn at once (one writev). setImmediate runs right after the poll phase, so a
 * lone request or reply waits only for the I/O callbacks already due in the same turn.
 *
 * Only the socket object of a connection the runtime or the bridge opened changes; nats.js itself
 * and other connections of the process are untouched.
 */
import { Socket } from "node:net";
import type { NatsConnection } from "@nats-io/transport-node";
import { batchWrites, writesBatched, type Logger } from "../../compat";

/**
 * The socket under `nc` at this moment (each reconnect opens a new one), where @nats-io/nats-core
 * 3.x keeps it: `nc.protocol.transport.socket`. Undefined when nats.js no longer has that shape;
 * test/integration/runtime/write-batching.test.ts fails loudly then.
 */
export function natsSocketOf(nc: NatsConnection): Socket | undefined {
  const protocol: unknown = (nc as unknown as { protocol?: unknown }).protocol;
  if (typeof protocol !== "object" || protocol === null) return undefined;
  const transport: unknown = (protocol as { transport?: unknown }).transport;
  if (typeof transport !== "object" || transport === null) return undefined;
  const socket: unknown = (transport as { socket?: unknown }).socket;
  return socket instanceof Socket ? socket : undefined;
}

const SHAPE_WARNING =
  "nats.js no longer keeps its socket where Cliffracer looks (protocol.transport.socket): " +
  "this connection's writes are not batched (docs/write-batching.md)";

/**
 * Batches the writes of `nc` per event-loop turn, now and after every reconnect. Returns false
 * (after a warning on `log`) when the socket cannot be found: the connection then works unbatched.
 */
export function batchNatsWrites(nc: NatsConnection, log: Logger): boolean {
  const apply = (): boolean => {
    const socket = natsSocketOf(nc);
    if (socket) batchWrites(socket, setImmediate);
    return socket !== undefined;
  };
  if (!apply()) {
    log.warn(SHAPE_WARNING);
    return false;
  }
  void (async () => {
    for await (const s of nc.status()) if (s.type === "reconnect" && !apply()) log.warn(SHAPE_WARNING);
  })().catch(() => undefined);
  return true;
}

/** True when the socket `nc` writes to now is batched. */
export function natsWritesBatched(nc: NatsConnection): boolean {
  const socket = natsSocketOf(nc);
  return socket !== undefined && writesBatched(socket);
}
