import { ConfigurationError } from "../../compat";
import type { ContainerHandle, DependencyProvider } from "../core/extension";
import { registerDependency } from "../core/metadata";

/** The service's configuration as read from its file, every key as written (Nameko's `self.config`). */
export type ConfigValues = { readonly [key: string]: unknown };

/** Options of `@Config(key)`. */
export interface ConfigKeyOptions {
  /** Used when the configuration has no such key; without it a missing key fails the start. */
  default?: unknown;
}

/**
 * Injects the service's configuration (Nameko's `Config` dependency provider), read-only:
 * `@Config() config!: ConfigValues` gives the whole mapping as loaded (with `${VAR}` substituted),
 * `@Config("DB_URIS") uris!: Record<string, string>` one key. A key that is missing, without a
 * default, is a ConfigurationError naming it when the container starts. Values are frozen copies:
 * a worker cannot change what the next one sees.
 */
export function Config(key?: string, options: ConfigKeyOptions = {}): PropertyDecorator {
  return (target, propertyKey) => {
    const attrName = String(propertyKey);
    registerDependency(target, () => new ConfigProvider(attrName, key, options));
  };
}

/** The dependency provider behind `@Config`. */
export class ConfigProvider implements DependencyProvider {
  private value: unknown;

  constructor(
    readonly attrName: string,
    readonly key: string | undefined,
    private readonly options: ConfigKeyOptions,
  ) {}

  setup(container: ContainerHandle): void {
    const raw = container.config.raw;
    if (this.key === undefined) {
      this.value = frozenCopy(raw);
      return;
    }
    if (Object.hasOwn(raw, this.key)) this.value = frozenCopy(raw[this.key]);
    else if ("default" in this.options) this.value = frozenCopy(this.options.default);
    else {
      throw new ConfigurationError(
        `Config key ${this.key} is missing (needed by @Config on ${container.serviceName}.${this.attrName})`,
      );
    }
  }

  getDependency(): unknown {
    return this.value;
  }
}

/** A deep copy with every object and array frozen; configuration is plain YAML data. */
function frozenCopy<T>(value: T): T {
  return deepFreeze(structuredClone(value));
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
