// Counts the writes a socket hands to the operating system: Node calls a stream's _write for one
// buffer and _writev for several at once (what a corked socket does on uncork), one system call
// each. The counter sits on the one socket object under test.
import type { Socket } from "node:net";

/** A running count of one socket's writes to the operating system. */
export interface SocketWriteCounter {
  readonly writes: number;
}

export function countSocketWrites(socket: Socket): SocketWriteCounter {
  const counter = { writes: 0 };
  const target = socket as unknown as Record<"_write" | "_writev", (...args: unknown[]) => unknown>;
  for (const method of ["_write", "_writev"] as const) {
    const original = target[method];
    target[method] = function (this: unknown, ...args: unknown[]): unknown {
      counter.writes++;
      return original.apply(this, args);
    };
  }
  return counter;
}
