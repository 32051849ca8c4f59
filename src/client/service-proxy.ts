import type { RpcCallOptions, RpcClient } from "./rpc-client";

/** Keyword arguments for a proxy call: `proxy.get_user(1, kwargs({ verbose: true }))`. */
export class KwArgs {
  constructor(readonly values: Record<string, unknown>) {}
}

/** Mark an object as Nameko keyword arguments when it is the last argument of a proxy method call. */
export function kwargs(values: Record<string, unknown>): KwArgs {
  return new KwArgs(values);
}

/** A remote method: positional arguments, optionally ending with `kwargs({...})`. */
export type RemoteMethod = (...args: unknown[]) => Promise<unknown>;

/** Per-call options a proxy accepts (the context comes from the proxy itself). */
export interface ProxyCallOptions {
  /** Milliseconds to wait for the reply before RpcTimeout. */
  timeoutMs?: number;
}

/** The explicit methods of a proxy; use them for remote methods named like one of these. */
export interface ServiceProxyMethods {
  /** Call `method` with positional arguments (a trailing `kwargs({...})` is sent as kwargs). */
  call(method: string, ...args: unknown[]): Promise<unknown>;
  /** Call `method` with explicit args and kwargs. */
  callKw(
    method: string,
    args?: readonly unknown[],
    kwargs?: Record<string, unknown>,
    options?: ProxyCallOptions,
  ): Promise<unknown>;
  /** Fire-and-forget: the service runs the call; nobody waits for, or sees, the result. */
  publish(method: string, args?: readonly unknown[], kwargs?: Record<string, unknown>): void;
  /** The same proxy with other per-call options, e.g. `proxy.withOptions({ timeoutMs: 500 }).add(1, 2)`. */
  withOptions(options: ProxyCallOptions): ServiceProxy;
}

/**
 * A proxy to one service: every other property is a remote method, `await users.get_user(1)`.
 * Nameko's `service.method(...)`; remote methods named `call`, `callKw`, `publish`, `withOptions`
 * or `then` are reached through `call("name", ...)`.
 */
export type ServiceProxy = ServiceProxyMethods & { readonly [method: string]: RemoteMethod };

/** The caller's side of every call a proxy makes: context and call id stack, and maybe ready-made headers. */
export type CallContext = () => RpcCallOptions;

const NO_KWARGS: Record<string, unknown> = Object.freeze({});

/** A ServiceProxy calling `service` through `client`, with the caller's context on every call. */
export function createServiceProxy(
  client: RpcClient,
  service: string,
  context: CallContext,
  options: ProxyCallOptions = {},
): ServiceProxy {
  const callKw = (
    method: string,
    args: readonly unknown[] = [],
    kw: Record<string, unknown> = NO_KWARGS,
    opts?: ProxyCallOptions,
  ) => {
    const base = context();
    const timeoutMs = opts?.timeoutMs ?? options.timeoutMs;
    // Only a proxy or call with its own timeout needs a new options object.
    return client.call(service, method, args, kw, timeoutMs === undefined ? base : { ...base, timeoutMs });
  };
  /** Positional arguments, a trailing `kwargs({...})` sent as kwargs. */
  const invoke = (method: string, args: readonly unknown[]) => {
    const last = args[args.length - 1];
    return last instanceof KwArgs ? callKw(method, args.slice(0, -1), last.values) : callKw(method, args);
  };
  const methods: ServiceProxyMethods = {
    call: (method, ...args) => invoke(method, args),
    callKw,
    publish: (method, args = [], kw = {}) => client.publish(service, method, args, kw, context()),
    withOptions: (next) => createServiceProxy(client, service, context, { ...options, ...next }),
  };
  const remote = new Map<string, RemoteMethod>();
  return new Proxy(methods, {
    get(target, prop) {
      if (typeof prop !== "string") return undefined;
      if (Object.prototype.hasOwnProperty.call(target, prop)) return target[prop as keyof ServiceProxyMethods];
      // `then` must stay undefined or `await proxy` would treat the proxy as a promise.
      if (prop === "then" || prop === "toJSON") return undefined;
      let fn = remote.get(prop);
      if (fn === undefined) remote.set(prop, (fn = (...args: unknown[]) => invoke(prop, args)));
      return fn;
    },
  }) as ServiceProxy;
}
