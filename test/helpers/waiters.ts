// Event-driven waits with deadlines, shared by every test kind: a test never sleeps a fixed time.
import type { Readable } from "node:stream";

/** A promise with its resolve/reject exposed. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Reject with a message naming what was awaited when `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Options of waitFor. */
export interface WaitForOptions {
  timeoutMs?: number;
  /** How often the condition is re-checked; it is checked at once first. */
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what?: string;
}

/**
 * Resolve once `condition` returns true (or a truthy value, which is returned). For state that
 * changes without an event to listen to; prefer an event or deferred when there is one.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 10, what = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolve with the first line of `stream` matching `pattern` (e.g. a child process's ready log line). */
export function waitForLine(stream: Readable, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const found = deferred<string>();
  let buffer = "";
  const onData = (chunk: Buffer | string): void => {
    buffer += chunk.toString();
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    const hit = lines.find((l) => pattern.test(l));
    if (hit !== undefined) found.resolve(hit);
  };
  const onEnd = (): void => found.reject(new Error(`stream ended before a line matched ${pattern}`));
  stream.on("data", onData);
  stream.on("end", onEnd);
  return withTimeout(found.promise, timeoutMs, `a line matching ${pattern}`).finally(() => {
    stream.off("data", onData);
    stream.off("end", onEnd);
  });
}
