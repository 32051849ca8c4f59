/**
 * Write batching for one socket of our own (docs/write-batching.md). No transport here (any Node
 * Writable with cork/uncork), so the NATS runtime and the AMQP layer share it.
 */

/** The part of a Node socket that batching uses (net.Socket and tls.TLSSocket have it). */
export interface CorkableStream {
  write(...args: never[]): boolean;
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
}

/** Schedules the end of a batch: `process.nextTick` (this callback) or `setImmediate` (this turn). */
export type BatchRelease = (release: () => void) => void;

const batched = new WeakSet<object>();

/**
 * Makes the writes to `stream` from the first one until `schedule` fires leave in one system call
 * (one writev): the stream is corked at the first write and uncorked by the scheduled callback.
 * Only this object changes (an own `write` in front of its class's); ordering, callbacks and
 * back-pressure are Node's, since `write()` still reports the buffered size. Applying it twice to
 * one stream is a no-op.
 */
export function batchWrites(stream: CorkableStream, schedule: BatchRelease): void {
  if (batched.has(stream)) return;
  batched.add(stream);
  const write = stream.write;
  let corked = false;
  const release = (): void => {
    corked = false;
    if (!stream.destroyed) stream.uncork();
  };
  const batchedWrite = function (this: CorkableStream, ...args: never[]): boolean {
    if (!corked && !stream.destroyed) {
      corked = true;
      stream.cork();
      schedule(release);
    }
    return write.apply(this, args);
  };
  Object.defineProperty(stream, "write", { value: batchedWrite, writable: true, configurable: true });
}

/** True when {@link batchWrites} was applied to `stream`. */
export function writesBatched(stream: object): boolean {
  return batched.has(stream);
}
