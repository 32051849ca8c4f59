// Reading a provider's keys from the service's config (Nameko's `container.config[KEY][name]`), with
// errors that name the key and list what is there, so a misspelling is found from the message alone.
import { ConfigurationError, type ContainerHandle } from "../src/index";

const quoted = (keys: readonly string[]): string => (keys.length === 0 ? "none" : keys.map((k) => `"${k}"`).join(", "));

/**
 * The string `config[section][entry]`, e.g. `DB_URIS["orders:Base"]`; a ConfigurationError naming
 * the key when the section or the entry is missing, or is not what it must be.
 */
export function configEntry(container: ContainerHandle, section: string, entry: string): string {
  const raw = container.config.raw;
  const mapping = raw[section];
  const wanted = `${section}["${entry}"]`;
  if (mapping === undefined || mapping === null) {
    throw new ConfigurationError(
      `Config key ${section} is missing: service ${container.serviceName} needs ${wanted} ` +
        `(config keys present: ${quoted(Object.keys(raw))})`,
    );
  }
  if (typeof mapping !== "object" || Array.isArray(mapping)) {
    throw new ConfigurationError(`Config key ${section} must be a mapping, got ${JSON.stringify(mapping)}`);
  }
  const value = (mapping as Record<string, unknown>)[entry];
  if (value === undefined || value === null) {
    throw new ConfigurationError(
      `Config key ${wanted} is missing for service ${container.serviceName} ` +
        `(${section} has: ${quoted(Object.keys(mapping))})`,
    );
  }
  if (typeof value !== "string" || value === "")
    throw new ConfigurationError(`Config key ${wanted} must be a URI string, got ${JSON.stringify(value)}`);
  return value;
}

/** The optional mapping `config[section]` ({} when absent); a ConfigurationError when it is not a mapping. */
export function configMapping(container: ContainerHandle, section: string): Record<string, unknown> {
  const value = container.config.raw[section];
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw new ConfigurationError(`Config key ${section} must be a mapping, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}
