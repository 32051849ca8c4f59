/**
 * The logging surface amqp/ needs. A winston `Logger` satisfies it, but compat must not
 * import the runtime, so the shape is declared here.
 */
export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

/** A logger that drops everything; the default when none is passed. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** An error's message, or the value as text, for log metadata. */
export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The URI with its password masked, so credentials never reach a log line. */
export function maskUri(uri: string): string {
  return uri.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
}
