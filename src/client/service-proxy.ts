import { SpanKind } from "@opentelemetry/api";
import { withContextEntries } from "../nats/headers";
import { rpcClientSpan } from "../tracing/attributes";
import { traceOutgoing, traceOutgoingSync, tracingOn, type TraceCarrier } from "../tracing/tracing";
import type { ServicePolicy } from "./resilience/policy";
import { headersOf, type RpcCallOptions, type RpcClient } from "./rpc-client";

/**
 * Keyword arguments for a proxy call: `proxy.get_user(1, kwargs({ verbose: true }))`. In an
 * interface given to a typed proxy, a trailing `KwArgs<{ verbose?: boolean }>` parameter declares
 * the keywords a method takes (docs/typed-proxies.md, Keyword arguments).
 */
export class KwArgs<K extends object = Record<string, unknown>> {
  // Nominal: an argument type that merely has a `values` field is not taken for declared keywords.
  declare private readonly brand: "KwArgs";
  constructor(readonly values: K) {}
}

/**
 * Mark an object as Nameko keyword arguments when it is the last argument of a proxy method call.
 * Its type comes from where it is passed (`NoInfer`), so on a typed proxy a misspelled or
 * mistyped keyword is a compile error; elsewhere it is any object.
 */
export function kwargs<K extends object = Record<string, unknown>>(values: NoInfer<K>): KwArgs<K> {
  return new KwArgs<K>(values);
}

/** A remote method of an untyped proxy: positional arguments, optionally ending with `kwargs({...})`. */
export type RemoteMethod = (...args: unknown[]) => Promise<unknown>;

/** Per-call options a proxy accepts (the context comes from the proxy itself). */
export interface ProxyCallOptions {
  /** Milliseconds to wait for the reply before RpcTimeout. */
  timeoutMs?: number;
}

/** The explicit methods of an untyped proxy; use them for remote methods named like one of these. */
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

/** Any function, whatever it takes. */
type AnyMethod = (...args: never) => unknown;

/** Names the proxy itself uses (or `await` looks up); remote methods so named are reached through `call`. */
type ReservedName = keyof ServiceProxyMethods | "then";

/** The remote methods of `T`: its function-valued members with string names (fields and other data do not count). */
export type RemoteMethodName<T> = {
  [M in keyof T]-?: M extends string ? (T[M] extends AnyMethod ? M : never) : never;
}[keyof T];

/** What awaiting a call of `T[M]` gives: the method's result, promise unwrapped (a remote call is always async). */
export type RemoteResult<T, M extends RemoteMethodName<T>> = T[M] extends (...args: never) => infer R
  ? Awaited<R>
  : never;

/** The arguments of `T[M]` as a proxy takes them (for an overloaded method: its last overload). */
export type RemoteArgs<T, M extends RemoteMethodName<T>> = T[M] extends (...args: infer A) => unknown ? A : never;

/** The keywords `T[M]` declares through a `KwArgs<K>` parameter, else none. */
export type RemoteKeywords<T, M extends RemoteMethodName<T>> = [
  Extract<RemoteArgs<T, M>[number], KwArgs<object>>,
] extends [KwArgs<infer K>]
  ? K
  : Record<string, never>;

/** The explicit methods of a typed proxy: those of the untyped one, checked against `T`. */
export interface TypedServiceProxyMethods<T extends object> {
  /** Call `method` with positional arguments (a trailing `kwargs({...})` is sent as kwargs). */
  call<M extends RemoteMethodName<T>>(method: M, ...args: RemoteArgs<T, M>): Promise<RemoteResult<T, M>>;
  /**
   * Call `method` with explicit args and kwargs, e.g. `proxy.callKw("greet", ["Ada"], { punctuation: "?" })`.
   * Keywords are those the method declares with a `KwArgs<K>` parameter.
   */
  callKw<M extends RemoteMethodName<T>>(
    method: M,
    args?: Readonly<Partial<RemoteArgs<T, M>>>,
    kwargs?: RemoteKeywords<T, M>,
    options?: ProxyCallOptions,
  ): Promise<RemoteResult<T, M>>;
  /** Fire-and-forget: the service runs the call; nobody waits for, or sees, the result. */
  publish<M extends RemoteMethodName<T>>(
    method: M,
    args?: Readonly<Partial<RemoteArgs<T, M>>>,
    kwargs?: RemoteKeywords<T, M>,
  ): void;
  /** The same proxy with other per-call options, e.g. `proxy.withOptions({ timeoutMs: 500 }).add(1, 2)`. */
  withOptions(options: ProxyCallOptions): ServiceProxy<T>;
}

/** The remote methods of a typed proxy: each method of `T` taking the same arguments, resolving to its awaited result. */
export type TypedRemoteMethods<T extends object> = {
  readonly [M in Exclude<RemoteMethodName<T>, ReservedName>]: (
    ...args: RemoteArgs<T, M>
  ) => Promise<RemoteResult<T, M>>;
};

/**
 * A proxy to one service: every other property is a remote method, `await users.get_user(1)`
 * (Nameko's `service.method(...)`).
 *
 * `ServiceProxy<UsersApi>` types it from an interface you declare (or from the service class
 * itself): only `T`'s methods exist, each taking its declared arguments and resolving to its
 * declared result. Plain `ServiceProxy` accepts any method name and resolves to `unknown`; its
 * names come from an index signature, so under `noUncheckedIndexedAccess` reach them through
 * `call("name", ...)` or use a typed proxy (docs/typed-proxies.md). Remote methods named `call`,
 * `callKw`, `publish`, `withOptions` or `then` are reached through `call("name", ...)`.
 */
export type ServiceProxy<T extends object = never> = [T] extends [never]
  ? ServiceProxyMethods & { readonly [method: string]: RemoteMethod }
  : TypedServiceProxyMethods<T> & TypedRemoteMethods<T>;

/** The caller's side of a call: context and call id stack (or ready-made headers), and the caller's call id for logs. */
export interface ProxyCallContext extends RpcCallOptions {
  /** The call id of the worker (or standalone proxy) making the call, logged with retries and refusals. */
  callId?: string;
}

/** The caller's side of every call a proxy makes, read at call time. */
export type CallContext = () => ProxyCallContext;

/**
 * Told of each call a proxy makes (for metrics): `method` starts now, and the returned function is
 * called once the call settled, with its error when it failed.
 */
export type CallObserver = (method: string) => (error?: unknown) => void;

/** What a proxy does around its calls beyond sending them. */
export interface ProxyHooks {
  /** Told of each call (its whole course: retries included, refusals as errors). */
  observe?: CallObserver;
  /** Retries, circuit breaker, bulkhead (docs/resilience.md). */
  policy?: ServicePolicy;
}

const NO_KWARGS: Record<string, unknown> = Object.freeze({});

/**
 * A ServiceProxy calling `service` through `client`, with the caller's context on every call, under
 * the hooks' policy and observer when given. The type argument only types the result: every proxy is
 * the same object at run time.
 */
export function createServiceProxy<T extends object = never>(
  client: RpcClient,
  service: string,
  context: CallContext,
  options: ProxyCallOptions = {},
  hooks: ProxyHooks = {},
): ServiceProxy<T> {
  const { observe, policy } = hooks;
  /** One request; with tracing on, in a CLIENT span of its own (so each retry has its own span). */
  const send = (method: string, args: readonly unknown[], kw: Record<string, unknown>, callOptions: RpcCallOptions) => {
    if (!tracingOn()) return client.call(service, method, args, kw, callOptions);
    const { name, attributes } = rpcClientSpan(service, method);
    return traceOutgoing(name, SpanKind.CLIENT, attributes, (carrier) =>
      client.call(service, method, args, kw, withTraceContext(callOptions, carrier)),
    );
  };
  const callKw = (
    method: string,
    args: readonly unknown[] = [],
    kw: Record<string, unknown> = NO_KWARGS,
    opts?: ProxyCallOptions,
  ) => {
    const base = context();
    const timeoutMs = opts?.timeoutMs ?? options.timeoutMs;
    // Only a proxy or call with its own timeout needs a new options object.
    const callOptions = timeoutMs === undefined ? base : { ...base, timeoutMs };
    const call =
      policy === undefined
        ? send(method, args, kw, callOptions)
        : policy.call(method, base.callId, () => send(method, args, kw, callOptions));
    if (observe === undefined) return call;
    const settled = observe(method);
    return call.then(
      (result) => {
        settled();
        return result;
      },
      (error: unknown) => {
        settled(error);
        throw error;
      },
    );
  };
  /** Positional arguments, a trailing `kwargs({...})` sent as kwargs. */
  const invoke = (method: string, args: readonly unknown[]) => {
    const last = args[args.length - 1];
    return last instanceof KwArgs ? callKw(method, args.slice(0, -1), last.values) : callKw(method, args);
  };
  const methods: ServiceProxyMethods = {
    call: (method, ...args) => invoke(method, args),
    callKw,
    publish: (method, args = [], kw = {}) => {
      if (!tracingOn()) return client.publish(service, method, args, kw, context());
      const { name, attributes } = rpcClientSpan(service, method);
      // The span covers the send only: nobody waits for a reply.
      traceOutgoingSync(name, SpanKind.CLIENT, attributes, (carrier) =>
        client.publish(service, method, args, kw, withTraceContext(context(), carrier)),
      );
    },
    withOptions: (next) => createServiceProxy(client, service, context, { ...options, ...next }, hooks),
  };
  const remote = new Map<string, RemoteMethod>();
  const proxy = new Proxy(methods, {
    get(target, prop) {
      if (typeof prop !== "string") return undefined;
      if (Object.prototype.hasOwnProperty.call(target, prop)) return target[prop as keyof ServiceProxyMethods];
      // `then` must stay undefined or `await proxy` would treat the proxy as a promise.
      if (prop === "then" || prop === "toJSON") return undefined;
      let fn = remote.get(prop);
      if (fn === undefined) remote.set(prop, (fn = (...args: unknown[]) => invoke(prop, args)));
      return fn;
    },
  });
  // The one place a proxy gets its type: the same object serves both forms.
  return proxy as unknown as ServiceProxy<T>;
}

/** The call's options with the trace context of its span added to the context it sends. */
function withTraceContext(options: RpcCallOptions, carrier: TraceCarrier): RpcCallOptions {
  return { timeoutMs: options.timeoutMs, headers: withContextEntries(headersOf(options), carrier) };
}
