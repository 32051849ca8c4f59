/** Aggregation over rounds (median and spread), the printed tables, and the targets check. */
import type { Availability, BenchCase, Measurement, Timing } from "./case";
import type { RoundResult } from "./runner";
import { DEFAULT_BODY_BYTES } from "./payload";
import { spreadOf, type Spread } from "./stats";

/** Everything known about one case after all rounds. */
export interface CaseReport {
  id: string;
  title: string;
  kind: "rpc" | "events";
  floor?: string;
  limits: string;
  /** In-flight levels measured (the case's own, or the run's). */
  levels: number[];
  /** The payload-size family's request body size in bytes. */
  payloadBytes?: number;
  status: "ok" | "error" | "not available" | "skipped";
  /** Why not available, or the first error. */
  reason?: string;
  rounds: RoundResult[];
  summary?: CaseSummary;
}

/** Medians and spreads of a case over its good rounds. */
export interface CaseSummary {
  /** µs at 1 in flight (RPC round trip, or event publish -> handler). */
  p50Us?: Spread;
  p99Us?: Spread;
  /** calls/s (RPC) or delivered events/s (events) by in-flight level. */
  rates: Record<string, Spread | undefined>;
  /** Events only: acknowledged publishes/s by level. */
  published?: Record<string, Spread | undefined>;
  /** Rate at the top level / the floor's, paired round by round. */
  ratioTop?: Spread;
  /** Rate / the floor's at each level both measured, paired round by round. */
  ratioAt?: Record<string, Spread | undefined>;
  /** p50 at 1 in flight / the floor's (lower is better), paired round by round. */
  ratioP50?: Spread;
  /** Events: e2e p50 at the first level with publishes back to back (queueing included). */
  backToBackP50Us?: Spread;
  /** CPU µs per op summed over the case's own processes (brokers excluded: they are shared). */
  cpuPerOpUs?: Spread;
  /**
   * The floor's total CPU per op (its processes and the broker) / this case's, paired round by
   * round: the throughput ratio to expect where the case's processes only compete with each other
   * for the cores, and far steadier than calls/s on a shared machine.
   */
  ratioCpu?: Spread;
  /** Per process: CPU seconds in the measured window, CPU µs per op, peak RSS MB (max over rounds). */
  processes: {
    name: string;
    cpuSeconds?: Spread;
    cpuPerOpUs?: Spread;
    writesPerOp?: Spread;
    readsPerOp?: Spread;
    peakRssMb?: number;
    /** Fork to ready, ms. */
    readyMs?: Spread;
    shared?: boolean;
    /** With `--memory`: each kind's peak in MB, max over rounds. */
    memoryPeaksMb?: Record<string, number>;
  }[];
}

const okMeasurements = (r: CaseReport): (Measurement | undefined)[] =>
  r.rounds.map((x) => (x.status === "ok" ? x.measurement : undefined));

/** Compute the summaries (floors first, since ratios pair a case's round with its floor's). */
export function summarize(reports: CaseReport[]): void {
  const byId = new Map(reports.map((r) => [r.id, r]));
  for (const r of reports) {
    const concurrencies = r.levels;
    const top = String(Math.max(...concurrencies));
    if (r.rounds.length === 0) continue;
    const ms = okMeasurements(r);
    if (ms.every((m) => m === undefined)) continue;
    const rates: Record<string, Spread | undefined> = {};
    const published: Record<string, Spread | undefined> = {};
    for (const c of concurrencies) {
      rates[c] = spreadOf(ms.map((m) => m?.rates[c]));
      if (r.kind === "events")
        published[c] = spreadOf(ms.map((m) => (m?.kind === "events" ? m.published[c] : undefined)));
    }
    const floor = r.floor ? byId.get(r.floor) : undefined;
    const floorMs = floor ? okMeasurements(floor) : [];
    const pair = (f: (m: Measurement, fm: Measurement) => number) =>
      spreadOf(ms.map((m, i) => (m && floorMs[i] ? f(m, floorMs[i] as Measurement) : undefined)));
    const names = [...new Set(r.rounds.flatMap((x) => x.processes.map((p) => p.name)))];
    r.summary = {
      p50Us: spreadOf(ms.map((m) => m?.latency.p50)),
      p99Us: spreadOf(ms.map((m) => m?.latency.p99)),
      rates,
      published: r.kind === "events" ? published : undefined,
      ratioTop: floor ? pair((m, fm) => m.rates[top] / fm.rates[top]) : undefined,
      ratioAt: floor
        ? Object.fromEntries(concurrencies.map((c) => [c, pair((m, fm) => m.rates[c] / fm.rates[c])]))
        : undefined,
      ratioP50: floor ? pair((m, fm) => m.latency.p50 / fm.latency.p50) : undefined,
      backToBackP50Us: spreadOf(ms.map((m) => (m?.kind === "events" ? m.latencyAt[concurrencies[0]]?.p50 : undefined))),
      cpuPerOpUs: spreadOf(
        r.rounds.map((x) =>
          x.status === "ok"
            ? x.processes.filter((p) => !p.shared).reduce((sum, p) => sum + (p.cpuPerOpUs ?? 0), 0)
            : undefined,
        ),
      ),
      ratioCpu: floor
        ? spreadOf(
            r.rounds.map((x, i) => {
              const f = floor.rounds[i];
              if (x.status !== "ok" || !f || f.status !== "ok") return undefined;
              const total = (rr: RoundResult) => rr.processes.reduce((sum, p) => sum + (p.cpuPerOpUs ?? 0), 0);
              const mine = total(x);
              return mine > 0 ? total(f) / mine : undefined;
            }),
          )
        : undefined,
      processes: names.map((name) => {
        const per = r.rounds.filter((x) => x.status === "ok").map((x) => x.processes.find((p) => p.name === name));
        const rss = per.map((p) => p?.peakRssMb).filter((v): v is number => v !== undefined);
        const memoryPeaksMb: Record<string, number> = {};
        for (const p of per)
          for (const [kind, mb] of Object.entries(p?.memoryPeaksMb ?? {}))
            memoryPeaksMb[kind] = Math.max(memoryPeaksMb[kind] ?? 0, mb);
        return {
          name,
          cpuSeconds: spreadOf(per.map((p) => p?.cpuSeconds)),
          cpuPerOpUs: spreadOf(per.map((p) => p?.cpuPerOpUs)),
          writesPerOp: spreadOf(per.map((p) => p?.writesPerOp)),
          readsPerOp: spreadOf(per.map((p) => p?.readsPerOp)),
          peakRssMb: rss.length ? Math.max(...rss) : undefined,
          readyMs: spreadOf(per.map((p) => p?.readyMs)),
          shared: per.some((p) => p?.shared),
          memoryPeaksMb: Object.keys(memoryPeaksMb).length ? memoryPeaksMb : undefined,
        };
      }),
    };
  }
}

/** Turn a case definition and its rounds (measured with `timing`, the run's) into a report entry. */
export function caseReport(
  c: BenchCase,
  rounds: RoundResult[],
  avail: Availability,
  selected: boolean,
  timing: Timing,
): CaseReport {
  const levels = (c.timing ? c.timing(timing) : timing).concurrencies;
  const base = {
    id: c.id,
    title: c.title,
    kind: c.kind,
    floor: c.floor,
    limits: c.limits,
    levels,
    payloadBytes: c.payloadBytes,
    rounds,
  };
  if (avail.status === "not available") return { ...base, status: "not available", reason: avail.reason };
  if (avail.status === "error") return { ...base, status: "error", reason: avail.reason };
  if (!selected) return { ...base, status: "skipped" };
  const errors = rounds.filter((r) => r.status === "error").length;
  const firstError = rounds.find((r) => r.status === "error")?.error;
  return {
    ...base,
    status: errors > 0 ? "error" : "ok",
    reason: firstError ? `${errors} of ${rounds.length} rounds failed: ${firstError}` : undefined,
  };
}

function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return "-";
  if (Math.abs(v) >= 10_000) return `${(v / 1000).toFixed(1)}k`;
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** "median [min-max]" (just the median with one round). */
export function fmtSpread(s: Spread | undefined, scale = 1, digits?: number): string {
  if (!s) return "-";
  const f = (v: number) => (digits !== undefined ? (v * scale).toFixed(digits) : fmtNum(v * scale));
  return s.n > 1 ? `${f(s.median)} [${f(s.min)}-${f(s.max)}]` : f(s.median);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (c ?? "").padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

function statusCell(r: CaseReport): string | undefined {
  if (r.status === "not available") return `not available: ${r.reason ?? ""}`;
  if (r.status === "skipped") return "skipped (--only)";
  if (r.status === "error" && !r.summary) return `ERROR: ${(r.reason ?? "").split("\n")[0]}`;
  return undefined;
}

/** The printed report: RPC table, events table, processes table (markdown, so BENCHMARKS.md can take it). */
export function renderTables(reports: CaseReport[], concurrencies: number[]): string {
  const top = Math.max(...concurrencies);
  const out: string[] = [];
  const rpc = reports.filter(
    (r) => r.kind === "rpc" && (r.payloadBytes === undefined || r.payloadBytes === DEFAULT_BODY_BYTES),
  );
  // By size; within a size, in table order (floors first).
  const sized = reports
    .filter((r) => r.payloadBytes !== undefined)
    .sort((a, b) => (a.payloadBytes as number) - (b.payloadBytes as number));
  const ev = reports.filter((r) => r.kind === "events");
  const note = (r: CaseReport) => (r.status === "error" && r.summary ? " (some rounds FAILED)" : "");
  out.push(
    "RPC, echo of ~100 bytes — median [min-max] over rounds; latency in ms at 1 call in flight; " +
      "CPU µs/call = CPU of the case's own processes (brokers excluded) per call over the measured windows; " +
      "x floor by CPU = floor's total CPU per call (its processes + broker) / this case's, paired by round",
  );
  out.push("");
  out.push(
    table(
      [
        "case",
        "p50 ms",
        "p99 ms",
        ...concurrencies.map((c) => `calls/s @${c}`),
        `x floor @${top}`,
        "x floor by CPU",
        "p50 x floor",
        "CPU µs/call",
      ],
      rpc.map((r) => {
        const s = statusCell(r);
        if (s) return [r.title, s];
        const m = r.summary as CaseSummary;
        return [
          r.title + note(r),
          fmtSpread(m.p50Us, 1e-3, 3),
          fmtSpread(m.p99Us, 1e-3, 3),
          ...concurrencies.map((c) => fmtSpread(m.rates[c])),
          r.floor ? fmtSpread(m.ratioTop, 1, 2) : "floor",
          r.floor ? fmtSpread(m.ratioCpu, 1, 2) : "floor",
          r.floor ? fmtSpread(m.ratioP50, 1, 2) : "floor",
          fmtSpread(m.cpuPerOpUs, 1, 1),
        ];
      }),
    ),
  );
  out.push("");
  out.push(
    "Events — end-to-end (publish -> handler) latency in ms of one event at a time (EVENT_GAP_MS apart, bench/lib/case.ts); " +
      "@1 back to back: the same with the next publish as soon as the broker acked (queueing included); " +
      "delivered/s = events published / (last receipt - first publish)",
  );
  out.push("");
  out.push(
    table(
      [
        "case",
        "e2e p50 ms",
        "e2e p99 ms",
        "p50 x floor",
        `e2e p50 ms @${concurrencies[0]} back to back`,
        ...concurrencies.map((c) => `delivered/s @${c}`),
        `published/s @${top}`,
        `x floor @${top}`,
        "x floor by CPU",
        "CPU µs/event",
      ],
      ev.map((r) => {
        const s = statusCell(r);
        if (s) return [r.title, s];
        const m = r.summary as CaseSummary;
        return [
          r.title + note(r),
          fmtSpread(m.p50Us, 1e-3, 3),
          fmtSpread(m.p99Us, 1e-3, 3),
          r.floor ? fmtSpread(m.ratioP50, 1, 2) : "floor",
          fmtSpread(m.backToBackP50Us, 1e-3, 3),
          ...concurrencies.map((c) => fmtSpread(m.rates[c])),
          fmtSpread(m.published?.[top]),
          r.floor ? fmtSpread(m.ratioTop, 1, 2) : "floor",
          r.floor ? fmtSpread(m.ratioCpu, 1, 2) : "floor",
          fmtSpread(m.cpuPerOpUs, 1, 1),
        ];
      }),
    ),
  );
  if (sized.some((r) => r.status !== "skipped" && r.status !== "not available")) {
    out.push("");
    out.push(renderPayloadTable(sized));
  }
  out.push("");
  out.push(
    "Processes — CPU seconds over the measured windows, CPU µs and write/read system calls per call/event (how well sends are batched; " +
      "counts read()/write() family calls, so Python's send()/recv() show as 0), peak RSS (VmHWM; brokers, marked *, are shared with the " +
      "whole machine: current RSS); ready ms = fork to the role's ready message (node start, module loading, the role's start-up)",
  );
  const rows: string[][] = [];
  for (const r of reports) {
    if (!r.summary) continue;
    for (const p of r.summary.processes) {
      rows.push([
        r.title,
        p.name + (p.shared ? " *" : ""),
        fmtSpread(p.cpuSeconds, 1, 2),
        fmtSpread(p.cpuPerOpUs, 1, 1),
        fmtSpread(p.writesPerOp, 1, 2),
        fmtSpread(p.readsPerOp, 1, 2),
        p.peakRssMb !== undefined ? p.peakRssMb.toFixed(0) : "-",
        fmtSpread(p.readyMs, 1, 0),
      ]);
    }
  }
  out.push("");
  out.push(table(["case", "process", "CPU s", "CPU µs/op", "writes/op", "reads/op", "peak RSS MB", "ready ms"], rows));
  const memory = renderMemory(reports);
  if (memory) out.push("", memory);
  return out.join("\n");
}

/** The kinds of `--memory`'s table, in column order: process.memoryUsage(), then V8's heap spaces. */
const MEMORY_KINDS = [
  "rss",
  "heapTotal",
  "heapUsed",
  "new_space",
  "old_space",
  "code_space",
  "large_object_space",
  "external",
  "arrayBuffers",
];

/** With `--memory`: each of our processes' peaks by kind (each column its own peak, max over rounds). */
function renderMemory(reports: CaseReport[]): string | undefined {
  const rows: string[][] = [];
  for (const r of reports)
    for (const p of r.summary?.processes ?? []) {
      const peaks = p.memoryPeaksMb;
      if (peaks)
        rows.push([r.title, p.name, ...MEMORY_KINDS.map((k) => (peaks[k] !== undefined ? peaks[k].toFixed(1) : "-"))]);
    }
  if (rows.length === 0) return undefined;
  return [
    "Memory by kind (--memory) — MB, each column the process's own peak over the round (sampled, so rss may sit below VmHWM); " +
      "new_space is V8's young generation (its semi-spaces grow under allocation), external and arrayBuffers are Buffers",
    "",
    table(["case", "process", ...MEMORY_KINDS], rows),
  ].join("\n");
}

/** "100 B", "10 KiB", "900 KiB". */
export function fmtBytes(n: number): string {
  return n < 1024 ? `${n} B` : `${+(n / 1024).toFixed(1)} KiB`;
}

/**
 * The payload-size family: one row per size and path, rates at the family's levels, ratios to the
 * floor of the same size paired by round.
 */
function renderPayloadTable(reports: CaseReport[]): string {
  // The levels every row measured (the 100-byte rows measure more).
  const levels = reports[0].levels.filter((c) => reports.every((r) => r.levels.includes(c)));
  const top = Math.max(...levels);
  const rows = reports.map((r) => {
    const bytes = r.payloadBytes as number;
    const s = statusCell(r);
    if (s) return [fmtBytes(bytes), r.title, s];
    const m = r.summary as CaseSummary;
    const rate = m.rates[top];
    return [
      fmtBytes(bytes),
      r.title + (r.status === "error" ? " (some rounds FAILED)" : ""),
      fmtSpread(m.p50Us, 1e-3, 3),
      fmtSpread(m.p99Us, 1e-3, 3),
      ...levels.map((c) => fmtSpread(m.rates[c])),
      rate ? ((rate.median * bytes) / 1e6).toFixed(1) : "-",
      r.floor ? fmtSpread(m.ratioAt?.[top], 1, 2) : "floor",
      r.floor ? fmtSpread(m.ratioP50, 1, 2) : "floor",
      r.floor ? fmtSpread(m.ratioCpu, 1, 2) : "floor",
      fmtSpread(m.cpuPerOpUs, 1, 1),
    ];
  });
  return [
    "RPC by payload size — echo of a request body of the given size (the reply is 2 bytes more through Nameko's envelope); " +
      `median [min-max] over rounds; latency in ms at 1 in flight; MB/s = request bytes per second @${top}; ` +
      "ratios to the floor of the same size, paired by round",
    "",
    table(
      [
        "size",
        "path",
        "p50 ms",
        "p99 ms",
        ...levels.map((c) => `calls/s @${c}`),
        `MB/s @${top}`,
        `x floor @${top}`,
        "p50 x floor",
        "x floor by CPU",
        "CPU µs/call",
      ],
      rows,
    ),
  ].join("\n");
}

/** One line of the targets check. */
export interface TargetCheck {
  target: string;
  measured: string;
  verdict: "met" | "not met" | "n/a";
}

/** The performance targets (BENCHMARKS.md, Targets), checked against the medians. */
export function checkTargets(reports: CaseReport[], concurrencies: number[]): TargetCheck[] {
  const top = String(Math.max(...concurrencies));
  const get = (id: string) => reports.find((r) => r.id === id)?.summary;
  const out: TargetCheck[] = [];
  /** `reference`: the case that runs the same broker work with none of our code (its ratio is the ceiling). */
  const ratio = (target: string, id: string, min: number, reference?: string) => {
    const s = get(id)?.ratioTop;
    const cpu = get(id)?.ratioCpu;
    const ref = reference ? reports.find((r) => r.id === reference) : undefined;
    const refRatio = ref?.summary?.ratioTop;
    const refText = ref && refRatio ? `; ${ref.title}: ${refRatio.median.toFixed(2)} x` : "";
    out.push({
      target,
      measured: s
        ? `${s.median.toFixed(2)} x${cpu ? ` (by CPU per call: ${cpu.median.toFixed(2)} x)` : ""}${refText}`
        : "-",
      verdict: s ? (s.median >= min ? "met" : "not met") : "n/a",
    });
  };
  ratio(`runtime client -> service @${top} >= 0.8 x raw NATS`, "rpc.runtime-client", 0.8);
  ratio(`runtime -> runtime (RpcProxy) @${top} >= 0.8 x raw NATS`, "rpc.runtime-proxy", 0.8);
  const rt = get("rpc.runtime-client");
  const mol = get("rpc.moleculer");
  const rtTop = rt?.rates[top];
  const molTop = mol?.rates[top];
  out.push({
    target: `runtime client -> service @${top} >= 1.2 x Moleculer`,
    measured:
      rtTop && molTop
        ? `${fmtNum(rtTop.median)} vs ${fmtNum(molTop.median)} calls/s = ${(rtTop.median / molTop.median).toFixed(2)} x`
        : "-",
    verdict: rtTop && molTop ? (rtTop.median >= 1.2 * molTop.median ? "met" : "not met") : "n/a",
  });
  const p50 = rt?.ratioP50;
  out.push({
    target: "runtime p50 @1 <= 1.1 x raw NATS",
    measured: p50 ? `${p50.median.toFixed(2)} x` : "-",
    verdict: p50 ? (p50.median <= 1.1 ? "met" : "not met") : "n/a",
  });
  out.push(...bridgedLatencyChecks(get));
  out.push(...bridgedEventLatencyChecks(get));
  ratio(
    `AMQP caller -> bridge -> runtime @${top} >= 0.5 x raw amqplib RPC`,
    "rpc.bridge-amqp-to-runtime",
    0.5,
    "rpc.nameko-amqp",
  );
  const br = get("rpc.bridge-amqp-to-runtime")?.rates[top];
  // Nameko's own figure: measured in this run when Nameko for Python is there, else the reference
  // figure (BENCHMARKS.md, Targets).
  const nameko = get("rpc.nameko-python")?.rates[top];
  const namekoRate = nameko?.median ?? 1400;
  const namekoWhat = nameko
    ? `${fmtNum(namekoRate)} calls/s measured in this run (case 8)`
    : "1,400 calls/s, the reference figure (case 8 not run)";
  out.push({
    target: `AMQP caller -> bridge -> runtime @${top} >= 5 x Nameko 2.14.1 (${namekoWhat})`,
    measured: br ? `${fmtNum(br.median)} calls/s = ${(br.median / namekoRate).toFixed(1)} x` : "-",
    verdict: br ? (br.median >= 5 * namekoRate ? "met" : "not met") : "n/a",
  });
  ratio(
    `bridge events AMQP -> NATS @${top} >= 0.6 x amqplib confirmed publish floor`,
    "events.bridge-amqp-to-nats",
    0.6,
    "events.relay-amqp-to-nats",
  );
  ratio(
    `bridge events NATS -> AMQP @${top} >= 0.6 x amqplib confirmed publish floor`,
    "events.bridge-nats-to-amqp",
    0.6,
    "events.relay-nats-to-amqp",
  );
  // The memory target is about a service or a bridge under full load: our runtime services and the
  // bridge, not the load generators or the peers.
  let worst: { mb: number; where: string } | undefined;
  for (const r of reports) {
    if (!/^(rpc|events)\.(runtime|bridge)/.test(r.id)) continue;
    for (const p of r.summary?.processes ?? []) {
      if (p.shared || p.peakRssMb === undefined || !/service|bridge/.test(p.name) || /AMQP/.test(p.name)) continue;
      if (!worst || p.peakRssMb > worst.mb) worst = { mb: p.peakRssMb, where: `${r.title} / ${p.name}` };
    }
  }
  out.push({
    target: "every runtime service and bridge process < 120 MB peak RSS under full load",
    measured: worst ? `max ${worst.mb.toFixed(0)} MB (${worst.where})` : "-",
    verdict: worst ? (worst.mb < 120 ? "met" : "not met") : "n/a",
  });
  return out;
}

type SummaryOf = (id: string) => CaseSummary | undefined;

const ms = (us: number): string => `${(us / 1000).toFixed(2)} ms`;

/**
 * Bridged RPC at one call in flight, both directions: p50 within 0.3 ms of the Nameko protocol
 * spoken by plain amqplib at both ends (6b), and below Nameko's own (8) when it ran.
 */
function bridgedLatencyChecks(get: SummaryOf): TargetCheck[] {
  const out: TargetCheck[] = [];
  const paths = [
    ["(4) AMQP caller -> bridge -> runtime", "rpc.bridge-amqp-to-runtime"],
    ["(5) runtime -> bridge -> AMQP service", "rpc.bridge-runtime-to-amqp"],
  ] as const;
  const nameko6b = get("rpc.nameko-amqp")?.p50Us?.median;
  const nameko8 = get("rpc.nameko-python")?.p50Us?.median;
  for (const [title, id] of paths) {
    const p50 = get(id)?.p50Us?.median;
    out.push({
      target: `${title} p50 @1 <= (6b) + 0.3 ms`,
      measured: p50 !== undefined && nameko6b !== undefined ? `${ms(p50)} vs ${ms(nameko6b + 300)}` : "-",
      verdict: p50 !== undefined && nameko6b !== undefined ? (p50 <= nameko6b + 300 ? "met" : "not met") : "n/a",
    });
    out.push({
      target: `${title} p50 @1 below Nameko 2.14.1's own (8)`,
      measured: p50 !== undefined && nameko8 !== undefined ? `${ms(p50)} vs ${ms(nameko8)}` : "-",
      verdict: p50 !== undefined && nameko8 !== undefined ? (p50 < nameko8 ? "met" : "not met") : "n/a",
    });
  }
  return out;
}

/** Bridged events one at a time, both directions: e2e p50 <= 1.5 ms and <= 3 x the matching floor. */
function bridgedEventLatencyChecks(get: SummaryOf): TargetCheck[] {
  return (
    [
      ["bridge events AMQP -> NATS", "events.bridge-amqp-to-nats"],
      ["bridge events NATS -> AMQP", "events.bridge-nats-to-amqp"],
    ] as const
  ).map(([title, id]) => {
    const s = get(id);
    const p50 = s?.p50Us?.median;
    const ratio = s?.ratioP50?.median;
    return {
      target: `${title} e2e p50 @1 <= 1.5 ms and <= 3 x floor`,
      measured: p50 !== undefined && ratio !== undefined ? `${ms(p50)} = ${ratio.toFixed(2)} x` : "-",
      verdict: p50 !== undefined && ratio !== undefined ? (p50 <= 1500 && ratio <= 3 ? "met" : "not met") : "n/a",
    };
  });
}

/** What limits each case, as a markdown list. */
export function renderLimits(reports: CaseReport[]): string {
  return reports.map((r) => `- **${r.title}** — ${r.limits || "-"}`).join("\n");
}

/** The targets as a markdown table. */
export function renderTargets(checks: TargetCheck[]): string {
  return table(
    ["target", "measured (median)", "verdict"],
    checks.map((c) => [c.target, c.measured, c.verdict]),
  );
}
