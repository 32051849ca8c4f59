import type { Msg, MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { decodeReply, encodeRequest } from "../../compat/codec";
import type { ContextData } from "../../compat/context";
import { deserializeError, RpcTimeout, UnknownService } from "../../compat/errors";
import { rpcSubject } from "../../compat/naming";
import { DEFAULT_PREFIX, DEFAULT_RPC_TIMEOUT_MS } from "../config/defaults";
import { maybeContextHeaders } from "../nats/headers";

/** Per-call options of RpcClient. */
export interface RpcCallOptions {
  /** Milliseconds to wait for the reply; RpcTimeout after that. */
  timeoutMs?: number;
  /** Context data sent as `nameko.*` headers (NAMEKO_PROTOCOL.md §8.4). */
  contextData?: ContextData;
  /** The caller's call id stack (a worker's stack, or a standalone proxy's). */
  callIdStack?: readonly string[];
  /** Ready-made headers; used instead of contextData/callIdStack (a proxy whose context never changes builds them once). */
  headers?: MsgHdrs;
}

/** Options of an RpcClient. */
export interface RpcClientOptions {
  /** Subject prefix (DESIGN.md, NATS contract). */
  prefix?: string;
  /** Default reply timeout in milliseconds. */
  timeoutMs?: number;
}

/**
 * The one way to call a service over NATS: used by RpcProxy, the standalone proxy, `cliffracer call`,
 * the bridge and the bench. Requests carry Nameko's body; replies are Nameko's envelope.
 */
export class RpcClient {
  readonly prefix: string;
  readonly timeoutMs: number;
  /** Validated subjects by service, then method: names are checked once, not per call. */
  private readonly subjects = new Map<string, Map<string, string>>();

  constructor(
    readonly nc: NatsConnection,
    options: RpcClientOptions = {},
  ) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  }

  /** `[prefix.]rpc.<service>.<method>`; throws InvalidName for a name that is not a single plain token. */
  subject(service: string, method: string): string {
    let byMethod = this.subjects.get(service);
    if (byMethod === undefined) this.subjects.set(service, (byMethod = new Map()));
    const known = byMethod.get(method);
    if (known !== undefined) return known;
    const subject = rpcSubject(service, method, this.prefix);
    byMethod.set(method, subject);
    return subject;
  }

  /**
   * Call `service.method(*args, **kwargs)` and resolve with its result; reject with the remote error
   * made typed (NAMEKO_PROTOCOL.md §6.3), UnknownService when nothing listens, RpcTimeout.
   */
  call(
    service: string,
    method: string,
    args: readonly unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: RpcCallOptions = {},
  ): Promise<unknown> {
    let body: string;
    try {
      body = encodeRequest(args as unknown[], kwargs);
    } catch (err) {
      return Promise.reject(err);
    }
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    // One promise hop per call: the reply handler and the error translation share one then().
    return this.send(service, method, body, timeoutMs, options).then(resultOf, (err: unknown) => {
      throw translateError(err, service, timeoutMs);
    });
  }

  /**
   * Send a ready-made Nameko body and resolve with the raw reply body (for the bridge, which passes
   * bodies through unchanged). Rejects with UnknownService or RpcTimeout only.
   */
  requestRaw(service: string, method: string, body: string | Uint8Array, options: RpcCallOptions = {}): Promise<Uint8Array> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return this.send(service, method, body, timeoutMs, options).then(
      (msg) => msg.data,
      (err: unknown) => {
        throw translateError(err, service, timeoutMs);
      },
    );
  }

  /** Fire-and-forget: publish the request with no reply subject; the service runs it and answers no one. */
  publish(
    service: string,
    method: string,
    args: readonly unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: RpcCallOptions = {},
  ): void {
    this.nc.publish(this.subject(service, method), encodeRequest(args as unknown[], kwargs), { headers: headersOf(options) });
  }

  private send(service: string, method: string, body: string | Uint8Array, timeoutMs: number, options: RpcCallOptions): Promise<Msg> {
    let subject: string;
    try {
      subject = this.subject(service, method);
    } catch (err) {
      return Promise.reject(err);
    }
    // nats.js sends requests with no-responders detection (NATS 2.2+), so a missing service is
    // answered by the server at once: DESIGN.md, "No responders ... fails the call at once".
    return this.nc.request(subject, body, { timeout: timeoutMs, headers: headersOf(options) });
  }
}

function headersOf(options: RpcCallOptions): MsgHdrs | undefined {
  if (options.headers) return options.headers;
  if (options.contextData === undefined && options.callIdStack === undefined) return undefined;
  return maybeContextHeaders(options.contextData ?? {}, options.callIdStack ?? []);
}

/** The result of a reply, or its error raised as the class Nameko's client would raise. */
function resultOf(msg: Msg): unknown {
  const reply = decodeReply(msg.data);
  // NAMEKO_PROTOCOL.md §6.3: only a truthy `error` counts.
  if (reply.error) throw deserializeError(reply.error);
  return reply.result;
}

/** nats.js request errors -> Nameko's client errors. Checked by name: nats-core may be installed twice. */
function translateError(err: unknown, service: string, timeoutMs: number): unknown {
  if (!(err instanceof Error)) return err;
  const cause = (err as { cause?: unknown }).cause;
  if (err.name === "NoResponders" || (cause instanceof Error && cause.name === "NoResponders")) return new UnknownService(service);
  if (err.name === "TimeoutError") return new RpcTimeout(timeoutMs / 1000);
  return err;
}
