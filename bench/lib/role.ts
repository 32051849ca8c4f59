/** The contract between the runner and a bench child process (one "role" per process). */

/** A running role: answers the runner's commands until it is stopped. */
export interface Role {
  /** Run one command from the runner; the resolved value goes back over IPC (JSON-able). */
  handle(command: string, arg: unknown): Promise<unknown>;
  /** Close connections and remove what the role created; the process exits afterwards. */
  stop(): Promise<void>;
  /** Other processes the role started (e.g. a Python service), measured as part of the case. */
  extraPids?(): { name: string; pid: number }[];
}

/** What every role module exports as `start`. */
export type StartRole = (options: Record<string, unknown>) => Promise<Role>;

/** Messages from the runner to a child. */
export interface CommandMessage {
  id: number;
  command: string;
  arg: unknown;
}

/** Messages from a child to the runner. */
export type ChildMessage =
  | { type: "ready"; extraPids: { name: string; pid: number }[] }
  | { type: "fatal"; error: string }
  | { type: "reply"; id: number; ok: true; value: unknown }
  | { type: "reply"; id: number; ok: false; error: string };

/** Error text with its stack, for reports. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}
