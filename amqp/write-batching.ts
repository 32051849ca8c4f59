/**
 * Makes amqplib write the frames it has queued in one system call instead of one per frame.
 *
 * amqplib's Mux copies queued frames to the socket in a loop, one `socket.write()` each; with
 * `noDelay` every write is its own syscall (2 writes per call in an amqplib RPC echo server; a third
 * of the bridge's CPU was in them). Corking the socket for the loop hands Node all of them at once
 * (one writev); ordering and back-pressure are unchanged, since `write()` still reports the buffered
 * size. The Mux runs once per setImmediate turn, so the frames of one turn (the acks of every
 * message handled in it, a publish and its ack) leave together.
 *
 * The patch is on amqplib's Mux prototype, so it applies to every amqplib connection of the
 * process (connection.ts imports this module; it may load before or after amqplib).
 * {@link amqpWritesBatched} reports whether it is in effect.
 */
import { dirname, join } from "node:path";

interface MuxLike {
  out: { cork(): void; uncork(): void };
  _readIncoming(): void;
}

interface MuxModule {
  Mux: { prototype: MuxLike & { cliffracerCorked?: boolean } };
}

// Loaded by absolute path: amqplib's package "exports" hide lib/.
const mux = require(join(dirname(require.resolve("amqplib")), "lib", "mux.js")) as MuxModule;
const proto = mux.Mux.prototype;

if (!proto.cliffracerCorked && typeof proto._readIncoming === "function") {
  const readIncoming = proto._readIncoming;
  proto._readIncoming = function corked(this: MuxLike): void {
    const out = this.out;
    out.cork();
    try {
      readIncoming.call(this);
    } finally {
      out.uncork();
    }
  };
  proto.cliffracerCorked = true;
}

/** True when amqplib's writes are batched (the patch found the Mux it expects). */
export function amqpWritesBatched(): boolean {
  return proto.cliffracerCorked === true;
}
