import { ConfigurationError } from "../../compat";

/** A host and port to listen on. */
export interface BindAddress {
  host: string;
  port: number;
}

/**
 * Nameko's parse_address: `[host:]port`; an empty host (or none) means every interface. `key` names
 * the config key in the error (`WEB_SERVER_ADDRESS`, `METRICS_ADDRESS`).
 */
export function parseAddress(text: string, key = "WEB_SERVER_ADDRESS"): BindAddress {
  const m = /^(?:(\[[^\]]+\]|[^:]*):)?(\d+)$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new ConfigurationError(`${key} must be [host:]port, got ${JSON.stringify(text)}`);
  const host = (m[1] ?? "").replace(/^\[(.*)\]$/, "$1");
  return { host: host === "" ? "0.0.0.0" : host, port };
}
