import { randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import type { ContextData } from "../../compat";
import { defaultConfig, type RuntimeConfig } from "../config/defaults";
import { connectNats, drainNats } from "../nats/connection";
import { maybeContextHeaders } from "../nats/headers";
import { sealHeaders } from "../nats/sealed-headers";
import { RpcClient } from "./rpc-client";
import { createServiceProxy, type ServiceProxy } from "./service-proxy";
import { largeBodiesOf } from "../nats/body-store";
import { rootLogger } from "../logging";
import { checkResilienceOptions, ServicePolicy, type ResilienceOptions } from "./resilience";

/** Options of ClusterRpcProxy.connect. */
export interface ClusterRpcProxyOptions {
  /** NATS server(s); default: NATS_URL, else the default URL. */
  natsUrl?: string;
  /** Subject prefix. */
  prefix?: string;
  /** Context data sent with every call (Nameko's `context_data=`). */
  contextData?: ContextData;
  /** Default reply timeout in milliseconds. */
  timeoutMs?: number;
  /** Use this connection instead of opening one (it is then left open by close()). */
  nats?: NatsConnection;
  /** Full runtime config; the fields above override it. */
  config?: RuntimeConfig;
  /**
   * Resilience policies by service name (idempotent methods, retry, circuit breaker, bulkhead;
   * docs/resilience.md); a service not named here is called as Nameko does.
   */
  resilience?: Readonly<Record<string, ResilienceOptions>>;
}

/**
 * A proxy to every service of the cluster for scripts and tests (Nameko's ClusterRpcProxy):
 * `const cluster = await ClusterRpcProxy.connect(); await cluster.service("calc").add(1, 2)`.
 */
export class ClusterRpcProxy {
  /**
   * Like Nameko 2.14: one call id per proxy, reused by every call it makes
   * (docs/nameko-wire.md, Standalone clients).
   */
  readonly callIdStack: readonly string[] = [`standalone_rpc_proxy.call.${randomUUID()}`];
  private readonly services = new Map<string, ServiceProxy>();
  private readonly policies = new Map<string, ServicePolicy>();

  private constructor(
    readonly client: RpcClient,
    private readonly contextData: ContextData,
    private readonly ownsConnection: boolean,
    resilience: Readonly<Record<string, ResilienceOptions>>,
  ) {
    const log = rootLogger.child({ client: "standalone_rpc_proxy" });
    for (const [service, options] of Object.entries(resilience)) {
      const policy = ServicePolicy.of(service, options, log);
      if (policy) this.policies.set(service, policy);
    }
  }

  /** Connect (or use `options.nats`) and return a ready proxy. */
  static async connect(options: ClusterRpcProxyOptions = {}): Promise<ClusterRpcProxy> {
    const base = options.config ?? defaultConfig();
    const natsUrl = options.natsUrl ?? (options.config ? base.natsUrl : (process.env.NATS_URL ?? base.natsUrl));
    for (const [service, resilience] of Object.entries(options.resilience ?? {}))
      checkResilienceOptions(service, resilience);
    const nc = options.nats ?? (await connectNats({ natsUrl, nats: base.nats }, { name: "standalone_rpc_proxy" }));
    const client = new RpcClient(nc, {
      prefix: options.prefix ?? base.prefix,
      timeoutMs: options.timeoutMs ?? base.rpcTimeoutMs,
      largeBodies: largeBodiesOf({ ...base, prefix: options.prefix ?? base.prefix }),
    });
    return new ClusterRpcProxy(
      client,
      { ...(options.contextData ?? {}) },
      options.nats === undefined,
      options.resilience ?? {},
    );
  }

  /**
   * The proxy of one service (`cluster.service("calc").add(1, 2)`); names that are not identifiers
   * work too. `cluster.service<CalcApi>("calc")` types it from an interface or the service class
   * (docs/typed-proxies.md).
   */
  service<T extends object = never>(name: string): ServiceProxy<T> {
    let proxy = this.services.get(name);
    if (proxy === undefined) {
      // Context and stack never change for this proxy, so the headers are built and encoded once.
      const built = maybeContextHeaders(this.contextData, this.callIdStack);
      const headers = built && sealHeaders(built);
      const context = { headers, callId: this.callIdStack[0] };
      const policy = this.policies.get(name);
      this.services.set(name, (proxy = createServiceProxy(this.client, name, () => context, {}, { policy })));
    }
    // One object per service whatever the type argument: the type only describes the calls.
    return proxy as unknown as ServiceProxy<T>;
  }

  /** The resilience policy of calls to `service` (its stats() for metrics), when the options gave it one. */
  policyOf(service: string): ServicePolicy | undefined {
    return this.policies.get(service);
  }

  /** Close: drain the connection when this proxy opened it. */
  async close(): Promise<void> {
    if (this.ownsConnection) await drainNats(this.client.nc);
  }
}
