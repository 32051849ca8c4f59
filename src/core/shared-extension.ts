import type { ContainerHandle } from "./extension";

/**
 * Base of an extension that several extensions of one container share (Nameko's SharedExtension):
 * get the instance with `container.shared(MyShared)` from an extension's setup(); the container
 * builds it once and runs the Extension lifecycle methods it defines once (docs/extensions.md,
 * Shared extensions).
 */
export abstract class SharedExtension {
  constructor(protected readonly container: ContainerHandle) {}
}

/**
 * A shared extension that extensions register with (Nameko's ProviderCollector), such as the one
 * subscription every `@rpc` method of a service is served from. Extensions register in their
 * setup(), so the collector's own setup() and start() see all of them.
 */
export class ProviderCollector<P> extends SharedExtension {
  private readonly registered = new Set<P>();

  /** The registered providers, in registration order. */
  get providers(): ReadonlySet<P> {
    return this.registered;
  }

  register(provider: P): void {
    this.registered.add(provider);
  }

  unregister(provider: P): void {
    this.registered.delete(provider);
  }
}
