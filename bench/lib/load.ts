/**
 * The closed-loop load generators that run inside caller/publisher processes, and the collector
 * that runs inside event consumers. A phase keeps `concurrency` operations in flight for
 * `durationMs`; only operations that complete inside the window are counted.
 */
import { Samples, type LatencySummary } from "./stats";
import type { BenchEvent } from "./payload";
import { EVENT_PAD } from "./payload";
import type { Role } from "./role";

/** One call or publish (index = running number, phase = the runner's phase tag); rejects on any error or wrong result. */
export type Operation = (index: number, phase: number) => Promise<void>;

/** What the runner asks of a phase. */
export interface PhaseRequest {
  concurrency: number;
  durationMs: number;
  /** Phase tag (events carry it, so consumers can tell phases apart). */
  phase: number;
  /**
   * Pause after each operation of a lane, ms. Events use it to time one event at a time: back to
   * back, a publisher that only waits for its broker's ack offers more than the far side carries,
   * and the end-to-end figure becomes the backlog's queueing time.
   */
  gapMs?: number;
}

/** What a phase returns. */
export interface PhaseResult {
  concurrency: number;
  /** Operations completed inside the window. */
  completed: number;
  /** Operations started in total (completed ones include those finishing after the window). */
  started: number;
  elapsedMs: number;
  /** hrtime (ns, as string) at the start of the window. */
  startNs: string;
  /** hrtime (ns) when the last operation of the phase finished. */
  endNs: string;
  /** Latency of each operation in µs (call round trip, or publish until acked). */
  latency: LatencySummary;
}

/** Run one closed-loop phase. `op` receives a running index (used to pick payloads / sequence numbers). */
export async function runPhase(op: Operation, request: PhaseRequest): Promise<PhaseResult> {
  const samples = new Samples();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(request.durationMs * 1e6));
  let next = 0;
  let completed = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      const t0 = process.hrtime.bigint();
      if (t0 >= deadline) return;
      await op(next++, request.phase);
      const t1 = process.hrtime.bigint();
      if (t1 <= deadline) {
        completed++;
        samples.push(Number(t1 - t0) / 1000);
      }
      if (request.gapMs) await new Promise((resolve) => setTimeout(resolve, request.gapMs));
    }
  };
  await Promise.all(Array.from({ length: request.concurrency }, lane));
  const end = process.hrtime.bigint();
  return {
    concurrency: request.concurrency,
    completed,
    started: next,
    elapsedMs: request.durationMs,
    startNs: String(start),
    endNs: String(end),
    latency: samples.summary(),
  };
}

/** A caller/publisher role around an operation: answers "phase" commands. */
export function loadRole(op: Operation, close: () => Promise<void>): Role {
  return {
    async handle(command, arg) {
      if (command === "phase") return runPhase(op, arg as PhaseRequest);
      throw new Error(`unknown command ${command}`);
    },
    stop: close,
  };
}

/** What a consumer reports for a phase. */
export interface ConsumeResult {
  phase: number;
  received: number;
  duplicates: number;
  /** Events of other phases seen meanwhile (left over from an earlier phase). */
  stray: number;
  /** hrtime (ns) of the last receipt. */
  lastNs: string;
  /** Publish -> receipt, µs. */
  endToEnd: LatencySummary;
}

/**
 * Counts and times bench events as a consumer receives them; checks every body. A wrong body is
 * remembered and fails the next "await".
 */
export class EventCollector {
  private phase = -1;
  private seen = new Set<number>();
  private received = 0;
  private duplicates = 0;
  private stray = 0;
  private lastNs = 0n;
  private samples = new Samples();
  private problem: string | undefined;
  private waiter: { count: number; resolve: () => void } | undefined;

  /** Record one received event (a parsed object, or its JSON text/bytes). */
  record(body: unknown): void {
    const now = process.hrtime.bigint();
    let ev: BenchEvent;
    try {
      const value =
        typeof body === "string"
          ? JSON.parse(body)
          : body instanceof Uint8Array
            ? JSON.parse(Buffer.from(body).toString("utf8"))
            : body;
      ev = value as BenchEvent;
      if (
        typeof ev.phase !== "number" ||
        typeof ev.seq !== "number" ||
        typeof ev.t !== "string" ||
        ev.pad !== EVENT_PAD
      ) {
        throw new Error(`unexpected event body ${JSON.stringify(value).slice(0, 200)}`);
      }
    } catch (err) {
      this.problem ??= String(err);
      return;
    }
    if (ev.phase !== this.phase) {
      this.stray++;
      return;
    }
    if (this.seen.has(ev.seq)) {
      this.duplicates++;
      return;
    }
    this.seen.add(ev.seq);
    this.received++;
    this.lastNs = now;
    this.samples.push(Number(now - BigInt(ev.t)) / 1000);
    if (this.waiter && this.received >= this.waiter.count) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve();
    }
  }

  /** Start counting a new phase. */
  expect(phase: number): void {
    this.phase = phase;
    this.seen = new Set();
    this.received = 0;
    this.duplicates = 0;
    this.stray = 0;
    this.lastNs = 0n;
    this.samples = new Samples();
  }

  /** Wait until `count` distinct events of the current phase arrived (or the timeout passed). */
  async awaitCount(count: number, timeoutMs: number): Promise<ConsumeResult> {
    if (this.received < count) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.waiter = undefined;
          resolve();
        }, timeoutMs);
        this.waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    }
    if (this.problem) throw new Error(`consumer saw a bad event: ${this.problem}`);
    if (this.received < count) {
      throw new Error(`only ${this.received} of ${count} events of phase ${this.phase} arrived within ${timeoutMs} ms`);
    }
    return {
      phase: this.phase,
      received: this.received,
      duplicates: this.duplicates,
      stray: this.stray,
      lastNs: String(this.lastNs),
      endToEnd: this.samples.summary(),
    };
  }

  /** The "expect"/"await" commands every consumer role answers. */
  handle(command: string, arg: unknown): Promise<unknown> {
    if (command === "expect") {
      this.expect((arg as { phase: number }).phase);
      return Promise.resolve(null);
    }
    if (command === "await") {
      const { count, timeoutMs } = arg as { count: number; timeoutMs: number };
      return this.awaitCount(count, timeoutMs);
    }
    return Promise.reject(new Error(`unknown command ${command}`));
  }
}
