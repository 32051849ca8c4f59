import { validateName } from "../../compat";
import { checkResilienceOptions, ServicePolicy, type ResilienceOptions } from "../client/resilience";
import { RpcClient } from "../client/rpc-client";
import { createServiceProxy, type CallObserver, type ProxyHooks, type ServiceProxy } from "../client/service-proxy";
import type { ContainerHandle, DependencyProvider, ExtensionMetrics, WorkerContext } from "../core/extension";
import { registerDependency } from "../core/metadata";
import { largeBodiesOf } from "../nats/body-store";
import { OutgoingHeaders } from "../nats/headers";

export type { ServiceProxy } from "../client/service-proxy";

/**
 * Options of `@RpcProxy`: a timeout, and the resilience policies (idempotent methods, retry, circuit
 * breaker, bulkhead; docs/resilience.md), none of which is on by default.
 */
export interface RpcProxyOptions extends ResilienceOptions {
  /** Reply timeout in milliseconds; default: the config's rpc timeout. */
  timeoutMs?: number;
}

/**
 * Injects a proxy to another service (Nameko's RpcProxy): `@RpcProxy("users") users!: ServiceProxy`,
 * then `await this.users.get_user(1)`; `users!: ServiceProxy<UsersApi>` types the calls from an
 * interface (docs/typed-proxies.md). Every call carries the worker's context data and call id stack.
 */
export function RpcProxy(service: string, options: RpcProxyOptions = {}): PropertyDecorator {
  validateName("service", service);
  checkResilienceOptions(service, options);
  return (target, propertyKey) => {
    registerDependency(target, () => new RpcProxyProvider(String(propertyKey), service, options));
  };
}

/** The dependency provider behind `@RpcProxy`. */
export class RpcProxyProvider implements DependencyProvider {
  private client?: RpcClient;
  private observe?: CallObserver;
  /** The resilience policy of this proxy's calls, shared by every worker; undefined when none is on. */
  policy?: ServicePolicy;
  private hooks: ProxyHooks = {};

  constructor(
    readonly attrName: string,
    readonly targetService: string,
    private readonly options: RpcProxyOptions,
  ) {}

  setup(container: ContainerHandle): void {
    this.client = new RpcClient(container.nats, {
      prefix: container.config.prefix,
      timeoutMs: this.options.timeoutMs ?? container.config.rpcTimeoutMs,
      largeBodies: largeBodiesOf(container.config),
    });
    const metrics: ExtensionMetrics | undefined = container.metrics;
    if (metrics) this.observe = (method) => metrics.outgoingCall(this.targetService, method);
    this.policy = ServicePolicy.of(this.targetService, this.options, container.log);
    this.hooks = { observe: this.observe, policy: this.policy };
  }

  getDependency(worker: WorkerContext): ServiceProxy {
    if (!this.client) throw new Error(`@RpcProxy("${this.targetService}") used before its container started`);
    // Read at call time (Nameko sends the context as it is when the call is made; docs/nameko-wire.md,
    // Context data), built once per worker while its data does not change.
    const headers = new OutgoingHeaders(worker);
    // The caller's call id is read only for a policy's logs.
    const context =
      this.policy === undefined
        ? () => ({ headers: headers.get() })
        : () => ({ headers: headers.get(), callId: worker.callId });
    return createServiceProxy(this.client, this.targetService, context, {}, this.hooks);
  }
}
