import type { Msg, MsgHdrs, NatsConnection, Payload } from "@nats-io/transport-node";
import {
  decodeReply,
  describeError,
  encodeRequestBytes,
  deserializeError,
  PayloadTooLarge,
  RpcTimeout,
  UnknownService,
  rpcSubject,
} from "../../compat";
import type { ContextData } from "../../compat";
import { DEFAULT_PREFIX, DEFAULT_RPC_TIMEOUT_MS, defaultConfig } from "../config/defaults";
import { bodyBucketOf, bodyRefOf, BodyStore, withBodyRef, type BodyBucket } from "../nats/body-store";
import { maybeContextHeaders } from "../nats/headers";
import { assertFitsNats, maxPayloadOf, natsPayloadTooLarge, oversize } from "../nats/payload-size";
import { ReplyMux, type ReplyCodec } from "../nats/reply-mux";

/** Per-call options of RpcClient. */
export interface RpcCallOptions {
  /** Milliseconds to wait for the reply; RpcTimeout after that. */
  timeoutMs?: number;
  /** Context data sent as `nameko.*` headers (docs/nameko-wire.md, Context data). */
  contextData?: ContextData;
  /** The caller's call id stack (a worker's stack, or a standalone proxy's). */
  callIdStack?: readonly string[];
  /** Ready-made headers; used instead of contextData/callIdStack (a proxy whose context never changes builds them once). */
  headers?: MsgHdrs;
}

/** Options of an RpcClient. */
export interface RpcClientOptions {
  /** Subject prefix (docs/nats-contract.md, Subjects). */
  prefix?: string;
  /** Default reply timeout in milliseconds. */
  timeoutMs?: number;
  /**
   * Where requests over the server's max_payload go (docs/large-payloads.md); `false` refuses them
   * with PayloadTooLarge. Default: the prefix's bucket with the default TTL. Large replies are
   * read whatever this says.
   */
  largeBodies?: BodyBucket | false;
}

const EMPTY = new Uint8Array(0);

/**
 * The one way to call a service over NATS: used by RpcProxy, the standalone proxy, `cliffracer call`,
 * the bridge and the bench. Requests carry Nameko's body; replies are Nameko's envelope.
 */
export class RpcClient {
  readonly prefix: string;
  readonly timeoutMs: number;
  /** Validated subjects by service, then method: names are checked once, not per call. */
  private readonly subjects = new Map<string, Map<string, string>>();
  private readonly largeBodies: BodyBucket | false;
  /** Reply codecs of this connection: a reply may name its body in the connection's object store. */
  private readonly result: ReplyCodec<unknown>;
  private readonly raw: ReplyCodec<Uint8Array>;

  constructor(
    readonly nc: NatsConnection,
    options: RpcClientOptions = {},
  ) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    this.largeBodies = options.largeBodies ?? bodyBucketOf(defaultConfig().largeBodies, this.prefix);
    const bodyOf = (msg: Msg): Uint8Array | Promise<Uint8Array> => {
      const ref = bodyRefOf(msg);
      return ref === undefined ? msg.data : BodyStore.of(nc).take(ref);
    };
    this.result = {
      ...rpcErrors,
      decode: (msg) => {
        const body = bodyOf(msg);
        return body instanceof Uint8Array ? resultOf(body) : body.then(resultOf);
      },
    };
    this.raw = { ...rpcErrors, decode: bodyOf };
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
   * made typed (docs/nameko-wire.md, Error deserialisation), UnknownService when nothing listens, RpcTimeout,
   * PayloadTooLarge (at once, nothing sent) for a request over the server's max_payload.
   */
  call(
    service: string,
    method: string,
    args: readonly unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: RpcCallOptions = {},
  ): Promise<unknown> {
    let body: Uint8Array;
    try {
      body = encodeRequestBytes(args as unknown[], kwargs);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.send(service, method, body, options.timeoutMs ?? this.timeoutMs, options, this.result);
  }

  /**
   * Send a ready-made Nameko body and resolve with the raw reply body (for the bridge, which passes
   * bodies through unchanged). Rejects with UnknownService or RpcTimeout, or with nats.js's error
   * when the request could not be sent (ClosedConnectionError, DrainingConnectionError) or the
   * connection closed under it (RequestError "connection closed").
   */
  requestRaw(
    service: string,
    method: string,
    body: string | Uint8Array,
    options: RpcCallOptions = {},
  ): Promise<Uint8Array> {
    return this.send(service, method, body, options.timeoutMs ?? this.timeoutMs, options, this.raw);
  }

  /**
   * Fire-and-forget: publish the request with no reply subject; the service runs it and answers no
   * one. Throws PayloadTooLarge for a request over the server's max_payload.
   */
  publish(
    service: string,
    method: string,
    args: readonly unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: RpcCallOptions = {},
  ): void {
    const subject = this.subject(service, method);
    const body = encodeRequestBytes(args as unknown[], kwargs);
    const headers = headersOf(options);
    assertFitsNats(this.nc, `request to ${service}.${method}`, body, headers);
    this.nc.publish(subject, body, { headers });
  }

  private send<T>(
    service: string,
    method: string,
    body: string | Uint8Array,
    timeoutMs: number,
    options: RpcCallOptions,
    codec: ReplyCodec<T>,
  ): Promise<T> {
    let subject: string;
    let mux: ReplyMux;
    let tooLarge: PayloadTooLarge | undefined;
    const headers = headersOf(options);
    try {
      subject = this.subject(service, method);
      const max = maxPayloadOf(this.nc);
      const size = oversize(body, headers, max);
      if (size !== undefined) {
        tooLarge = natsPayloadTooLarge(`request to ${service}.${method}`, size, max!);
        if (this.largeBodies === false) throw tooLarge;
      }
      mux = ReplyMux.of(this.nc);
    } catch (err) {
      return Promise.reject(err);
    }
    if (tooLarge !== undefined) {
      return this.sendLarge(
        this.largeBodies as BodyBucket,
        mux,
        subject,
        body,
        headers,
        timeoutMs,
        codec,
        service,
        tooLarge,
      );
    }
    // Not nc.request(): see ReplyMux. Requests still carry no-responders detection, so a missing
    // service is answered by the server at once (docs/nats-contract.md, RPC requests and replies).
    return mux.request(subject, body, headers, timeoutMs, codec, service);
  }

  /** A request over max_payload: its body goes to the object store, the message carries the ref. */
  private async sendLarge<T>(
    bucket: BodyBucket,
    mux: ReplyMux,
    subject: string,
    body: Payload,
    headers: MsgHdrs | undefined,
    timeoutMs: number,
    codec: ReplyCodec<T>,
    service: string,
    tooLarge: PayloadTooLarge,
  ): Promise<T> {
    const store = BodyStore.of(this.nc);
    let ref: string;
    try {
      ref = await store.put(bucket, body);
    } catch (err) {
      throw new PayloadTooLarge(
        `${tooLarge.message}, and the large-body store failed: ${describeError(err)}`,
        tooLarge.size,
        tooLarge.limit,
      );
    }
    try {
      return await mux.request(subject, EMPTY, withBodyRef(headers, ref), timeoutMs, codec, service);
    } catch (err) {
      // Nothing received the request, so nobody will read its body.
      if (err instanceof UnknownService) store.discard(ref);
      throw err;
    }
  }
}

/** Errors of both RPC codecs: Nameko's client errors (UnknownService, RpcTimeout in seconds). */
const rpcErrors = {
  noResponders: (service: string): Error => new UnknownService(service),
  timeout: (_service: string, timeoutMs: number): Error => new RpcTimeout(timeoutMs / 1000),
};

/** The headers a call with these options carries. */
export function headersOf(options: RpcCallOptions): MsgHdrs | undefined {
  if (options.headers) return options.headers;
  if (options.contextData === undefined && options.callIdStack === undefined) return undefined;
  return maybeContextHeaders(options.contextData ?? {}, options.callIdStack ?? []);
}

/** The result of a reply, or its error raised as the class Nameko's client would raise. */
function resultOf(body: Uint8Array): unknown {
  const reply = decodeReply(body);
  // Only a truthy `error` counts (docs/nameko-wire.md, Error deserialisation).
  if (reply.error) throw deserializeError(reply.error);
  return reply.result;
}
