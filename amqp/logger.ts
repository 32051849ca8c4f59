import type { Logger } from "../compat";

/** A logger that drops everything; the default when none is passed. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
  isDebugEnabled: () => false,
};
