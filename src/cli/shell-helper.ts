import { inspect } from "node:util";
import type { NatsConnection } from "@nats-io/transport-node";
import type { ContextData, Logger } from "../../compat";
import { kwargs, type ServiceProxy } from "../client/service-proxy";
import { ClusterRpcProxy } from "../client/standalone";
import { standaloneDispatcher, type StandaloneDispatcher } from "../client/standalone-dispatcher";
import type { RuntimeConfig } from "../config/defaults";
import { maskSecrets } from "../logging";
import { drainNats } from "../nats/connection";

/** Every service of the cluster by name: `n.rpc.users.get_user(1)`, `n.rpc["my-svc"].ping()`. */
export type ShellRpc = Readonly<Record<string, ServiceProxy>>;

/** Publishes an event as `sourceService` (Nameko's `n.dispatch_event`). */
export type ShellDispatch = (sourceService: string, eventType: string, payload?: unknown) => Promise<void>;

/**
 * The `n` of `cliffracer shell`, Nameko's shell helper on NATS: calls, events and the config
 * (docs/shell.md). Everything shares the shell's one connection.
 */
export interface ShellHelper {
  readonly rpc: ShellRpc;
  /** Nameko's name. */
  readonly dispatch_event: ShellDispatch;
  /** The same, by its JavaScript name. */
  readonly dispatchEvent: ShellDispatch;
  /** The loaded config, credentials masked. */
  readonly config: unknown;
  /** Keyword arguments for a call: `n.rpc.users.get_user(1, n.kwargs({ verbose: true }))`. */
  readonly kwargs: typeof kwargs;
  /** Drain the connection; later calls and dispatches fail. */
  disconnect(): Promise<void>;
}

/** What createShellHelper needs: the shell's connection and config. */
export interface ShellHelperOptions {
  nc: NatsConnection;
  config: RuntimeConfig;
  /** Context data sent with every call (`--context`). */
  contextData?: ContextData;
  /** Where the dispatcher logs creating the events stream. */
  log: Logger;
}

/** Build `n` on an open connection; the dispatcher is made at the first dispatch, so a shell used for calls only needs no JetStream. */
export async function createShellHelper(options: ShellHelperOptions): Promise<ShellHelper> {
  const { nc, config, log } = options;
  const cluster = await ClusterRpcProxy.connect({ nats: nc, config, contextData: options.contextData });
  const services = { [inspect.custom]: () => "[the cluster's services: n.rpc.<service>.<method>(...)]" };
  const rpc = new Proxy(services, {
    get(target, prop) {
      if (typeof prop !== "string") return Reflect.get(target, prop) as unknown;
      // `then` stays undefined or `await n.rpc` would take it for a promise.
      return prop === "then" ? undefined : cluster.service(prop);
    },
  }) as unknown as ShellRpc;

  let dispatcher: Promise<StandaloneDispatcher> | undefined;
  const dispatch: ShellDispatch = async (sourceService, eventType, payload = null) => {
    dispatcher ??= standaloneDispatcher({ nats: nc, prefix: config.prefix, events: config.events, log });
    let ready: StandaloneDispatcher;
    try {
      ready = await dispatcher;
    } catch (err) {
      dispatcher = undefined; // e.g. JetStream was off: the next dispatch tries again
      throw err;
    }
    await ready(sourceService, eventType, payload);
  };

  return {
    rpc,
    dispatch_event: dispatch,
    dispatchEvent: dispatch,
    config: maskSecrets(config),
    kwargs,
    disconnect: () => drainNats(nc),
  };
}
