/**
 * What every layer needs of a logger, and the masking of credentials in what it logs. Only the
 * shape lives here (compat does no I/O): the runtime's winston loggers satisfy it, and amqp/
 * falls back to a silent one when it is given none.
 */
import { describeError } from "./errors";
import { isError } from "./python";

/** A structured logger: a message plus an object of fields per entry. */
export interface Logger {
  debug(message: string, meta?: object): unknown;
  info(message: string, meta?: object): unknown;
  warn(message: string, meta?: object): unknown;
  error(message: string, meta?: object): unknown;
  /** A logger that adds `meta` to every entry. */
  child(meta: Record<string, unknown>): Logger;
  /** Whether debug entries are written, so a hot path can skip building them. */
  isDebugEnabled(): boolean;
}

/**
 * Log fields for a caught value: the error itself, so the logger keeps its stack, or a thrown
 * non-Error value as text under `error`. An error whose message or stack cannot be read (a
 * throwing getter) is described too: the logger reads both, and would throw itself.
 */
export function errorLogFields(err: unknown): object {
  if (isError(err) && readable(err)) return err;
  return { error: describeError(err) };
}

function readable(err: Error): boolean {
  try {
    return typeof err.message === "string" && err.stack !== null;
  } catch {
    return false;
  }
}

/** `scheme://user:password@host`: the password part. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@/?#\s]+)(@)/gi;

/**
 * `text` with the password of every URL in it masked (`amqp://guest:guest@h` ->
 * `amqp://guest:***@h`), so credentials never reach a log line. A port (`host:5672`) is not a
 * password and is kept.
 */
export function maskUrlCredentials(text: string): string {
  return text.replace(URL_PASSWORD, "$1***$3");
}
