/**
 * Makes nats.js write what it sends during one turn of the event loop in one system call.
 *
 * nats.js flushes its outbound buffer from a microtask queued by the first command after a write,
 * so commands issued in different microtask checkpoints of one turn (a worker's acks, then the pull
 * request its finish triggered; replies released by a semaphore one after another) leave in
 * separate `socket.write()` calls. On loopback each write is a system call that also runs the
 * receiver's TCP path, and it was the largest item in every profile (writeBuffer, 46-61% of the
 * bridge's and of an event handler's busy time, BENCHMARKS.md). Corking the socket at the first
 * write of a turn and uncorking it from setImmediate hands Node every frame of the turn at once
 * (one writev). setImmediate runs right after the poll phase, so a lone request or reply waits
 * only for the I/O callbacks already due in the same turn.
 *
 * The patch is on the transport's prototype, so it applies to every nats.js connection of the
 * process; {@link natsWritesBatched} reports whether it is in effect.
 */
import { dirname, join } from "node:path";

interface CorkableSocket {
  cork(): void;
  uncork(): void;
  destroyed?: boolean;
  cliffracerCorked?: boolean;
}

interface TransportLike {
  socket?: CorkableSocket;
  _send(frame: Uint8Array): Promise<void>;
}

interface TransportModule {
  NodeTransport: { prototype: TransportLike & { cliffracerBatched?: boolean } };
}

// Loaded by absolute path: the package "exports" hide lib/.
const transport = require(
  join(dirname(require.resolve("@nats-io/transport-node")), "lib", "node_transport.js"),
) as TransportModule;
const proto = transport.NodeTransport.prototype;

function uncork(socket: CorkableSocket): void {
  socket.cliffracerCorked = false;
  if (!socket.destroyed) socket.uncork();
}

if (!proto.cliffracerBatched && typeof proto._send === "function") {
  const send = proto._send;
  proto._send = function batched(this: TransportLike, frame: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (socket && !socket.cliffracerCorked && !socket.destroyed) {
      socket.cliffracerCorked = true;
      socket.cork();
      setImmediate(uncork, socket);
    }
    return send.call(this, frame);
  };
  proto.cliffracerBatched = true;
}

/** True when nats.js's writes are batched per turn (the patch found the transport it expects). */
export function natsWritesBatched(): boolean {
  return proto.cliffracerBatched === true;
}
