import winston from "winston";
import { maskUrlCredentials } from "../compat";

export type { Logger } from "../compat";

/** Keys whose values are secrets wherever they appear in a log entry or a shown config. */
const SECRET_KEY = /pass(word)?$|secret|token|credential|authorization|api[-_]?key/i;
const MASK = "***";

/** A copy of `value` with secret-named keys and URL passwords masked; used by logs and show-config. */
export function maskSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return maskUrlCredentials(value);
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, depth + 1));
  if (value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null && v !== "" ? MASK : maskSecrets(v, depth + 1);
  }
  return out;
}

/** Winston format masking secrets, so no call site has to remember. */
const maskFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const v = (info as Record<string, unknown>)[key];
    if (SECRET_KEY.test(key) && v !== undefined && v !== null && v !== "")
      (info as Record<string, unknown>)[key] = MASK;
    else if (v !== null && (typeof v === "string" || typeof v === "object"))
      (info as Record<string, unknown>)[key] = maskSecrets(v);
  }
  return info;
});

/** Level from LOG_LEVEL; `warn` under jest or NODE_ENV=test so test output stays readable; else `info`. */
export function defaultLogLevel(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LOG_LEVEL) return env.LOG_LEVEL.toLowerCase();
  if (env.NODE_ENV === "test" || env.JEST_WORKER_ID !== undefined) return "warn";
  return "info";
}

/** Options of createLogger. */
export interface LoggerOptions {
  level?: string;
  /** Fields carried by every line. */
  defaultMeta?: Record<string, unknown>;
  /** Write to stderr instead of stdout (for commands whose stdout is their result, like `call`). */
  stderr?: boolean;
}

/** A winston logger writing one JSON object per line to stdout (or stderr); `LOG_LEVEL=silent` mutes it. */
export function createLogger(options: LoggerOptions = {}): winston.Logger {
  const level = options.level ?? defaultLogLevel();
  return winston.createLogger({
    level: level === "silent" ? "error" : level,
    silent: level === "silent",
    defaultMeta: options.defaultMeta,
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      maskFormat(),
      winston.format.json(),
    ),
    transports: [
      new winston.transports.Console(options.stderr ? { stderrLevels: Object.keys(winston.config.npm.levels) } : {}),
    ],
  });
}

/** The process-wide root logger; containers and workers use children of it. */
export const rootLogger: winston.Logger = createLogger();
