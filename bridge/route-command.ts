/**
 * `cliffracer route`: reads and changes a routed service's table through a bridge's ops port
 * (docs/routing.md, The route table). Plain HTTP with the global fetch, so the command loads nothing
 * of the bridge itself.
 */
import { CommandError } from "../src/cli";
// Types only: the command loads nothing of the bridge.
import type { RoutesAnswer, RoutesHistoryEntry } from "./routing/route-control";

/** The bridge's ops port when neither `--bridge-url` nor `CLIFFRACER_BRIDGE_URL` names one. */
export const DEFAULT_BRIDGE_URL = "http://127.0.0.1:9400";

/** Exit statuses: the table is in force (or shown), the bridge refused, the bridge could not be reached. */
export const ROUTE_OK = 0;
export const ROUTE_REFUSED = 1;
export const ROUTE_UNREACHABLE = 2;

/** How long the command waits for the bridge's answer. */
const REQUEST_TIMEOUT_MS = 15_000;

/** What the command was asked. */
export interface RouteCommandOptions {
  default?: string;
  rollback?: boolean;
  /** With `rollback`: the revision whose table is put back. */
  to?: string;
  show?: boolean;
  json?: boolean;
  bridgeUrl?: string;
}

/** Where the output goes (tests pass their own). */
export interface RouteOutput {
  out(text: string): void;
  err(text: string): void;
}

const stdio: RouteOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

function weight(text: string, what: string): number {
  const n = text.trim() === "" ? NaN : Number(text);
  if (!Number.isFinite(n))
    throw new CommandError(`${what}: a weight is a number from 0 to 100, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * The whole new table from `method=weight` arguments and `--default`: methods not named go to the
 * default, which is 0 (the original) unless given. Range checks are the bridge's (one place).
 */
export function tableFromArgs(
  assignments: readonly string[],
  defaultWeight: string | undefined,
): Record<string, number> {
  const table: Record<string, number> = { "*": defaultWeight === undefined ? 0 : weight(defaultWeight, "--default") };
  for (const assignment of assignments) {
    const at = assignment.indexOf("=");
    if (at <= 0) throw new CommandError(`expected method=weight, got ${JSON.stringify(assignment)}`);
    const method = assignment.slice(0, at);
    if (method === "*" && defaultWeight !== undefined)
      throw new CommandError("give the default once: --default or *=W");
    table[method] = weight(assignment.slice(at + 1), method);
  }
  return table;
}

/** Runs the command; resolves with its exit status. */
export async function runRoute(
  service: string,
  assignments: readonly string[],
  opts: RouteCommandOptions,
  output: RouteOutput = stdio,
): Promise<number> {
  const changing = assignments.length > 0 || opts.default !== undefined;
  if (opts.rollback && (changing || opts.show))
    throw new CommandError("--rollback takes no weights and no --show: it puts back the previous table");
  if (opts.show && changing) throw new CommandError("--show takes no weights");
  if (opts.to !== undefined && !opts.rollback) throw new CommandError("--to goes with --rollback");
  const toRevision = opts.to === undefined ? undefined : Number(opts.to);
  if (toRevision !== undefined && !(Number.isInteger(toRevision) && toRevision > 0))
    throw new CommandError(`--to takes a revision number (see --show), got ${JSON.stringify(opts.to)}`);
  const base = (opts.bridgeUrl ?? process.env.CLIFFRACER_BRIDGE_URL ?? DEFAULT_BRIDGE_URL).replace(/\/+$/, "");
  const url = `${base}/routes/${encodeURIComponent(service)}`;
  let request: { method: string; url: string; body?: string };
  if (opts.rollback)
    request = {
      method: "POST",
      url: `${url}/rollback`,
      body: toRevision === undefined ? undefined : JSON.stringify({ revision: toRevision }),
    };
  else if (changing) request = { method: "PUT", url, body: JSON.stringify(tableFromArgs(assignments, opts.default)) };
  else request = { method: "GET", url };

  let response: Response;
  let text: string;
  try {
    response = await fetch(request.url, {
      method: request.method,
      body: request.body,
      headers: request.body === undefined ? undefined : { "content-type": "application/json" },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    text = await response.text();
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    output.err(`cannot reach the bridge at ${base}: ${cause}\n`);
    return ROUTE_UNREACHABLE;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    output.err(
      `the bridge at ${base} answered ${response.status} with something other than JSON: ${text.slice(0, 200)}\n`,
    );
    return ROUTE_REFUSED;
  }
  if (!response.ok) {
    const error = (body as { error?: { type?: string; message?: string } }).error;
    output.err(`${error?.type ?? `HTTP ${response.status}`}: ${error?.message ?? text}\n`);
    return ROUTE_REFUSED;
  }
  output.out(
    opts.json
      ? `${JSON.stringify(body, null, 2)}\n`
      : formatRoutes(body as RoutesAnswer & { history?: RoutesHistoryEntry[] }),
  );
  return ROUTE_OK;
}

/** The table in force as lines a person reads: the weights, then the history when the bridge sent it. */
export function formatRoutes(answer: RoutesAnswer & { history?: RoutesHistoryEntry[] }): string {
  const origin =
    answer.revision === null
      ? "no table set: every call goes to the original"
      : `revision ${answer.revision}, ${describe(answer)}`;
  const lines = [`${answer.service} (${origin})`];
  const width = Math.max(...Object.keys(answer.routes).map((m) => m.length));
  for (const [method, w] of Object.entries(answer.routes))
    lines.push(`  ${method.padEnd(width)}  ${String(w).padStart(3)}% to the port`);
  if (answer.history && answer.history.length > 0) {
    lines.push("history (newest first):");
    for (const h of answer.history) lines.push(`  ${h.revision}  ${describe(h)}  ${JSON.stringify(h.routes)}`);
  }
  return `${lines.join("\n")}\n`;
}

function describe(r: RoutesHistoryEntry): string {
  const what = r.action === "rollback" && r.restored !== undefined ? `rollback to revision ${r.restored}` : r.action;
  return `${what}${r.by ? ` by ${r.by}` : ""} at ${r.at}`;
}
