/**
 * A Nameko 2.14 standalone RPC caller (ClusterRpcProxy; docs/nameko-wire.md, UnknownService,
 * Standalone clients) on plain
 * amqplib: reply queue `rpc.reply-standalone_rpc_proxy-<uuid>`, requests mandatory with confirms,
 * UnknownService on basic.return, optional timeout. `send()` publishes arbitrary (even broken)
 * requests so servers can be tested on malformed input.
 */
import { randomUUID } from "node:crypto";
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from "amqplib";
import {
  PeerRemoteError,
  RPC_EXCHANGE,
  declareReplyQueue,
  peerConnect,
  pyContextHeaders,
  pyDumps,
  type PyError,
} from "./wire";

export class PeerUnknownService extends Error {
  constructor(readonly serviceName: string) {
    super(`Unknown service \`${serviceName}\``);
    this.name = "UnknownService";
  }
}

export class PeerRpcTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`RpcTimeout ${timeoutMs / 1000}`);
    this.name = "RpcTimeout";
  }
}

export interface PeerCallerOptions {
  uri: string;
  /** `context_data=` of the proxy. */
  contextData?: Record<string, unknown>;
  timeoutMs?: number;
}

export interface PeerSendOptions {
  /** Properties of the request; default: exactly what Nameko sends. Set a key to undefined to omit it. */
  properties?: Options.Publish;
  timeoutMs?: number;
}

export class PeerCaller {
  readonly uuid = randomUUID();
  /** Constant per proxy in 2.14 (docs/nameko-wire.md, Standalone clients). */
  readonly callId = `standalone_rpc_proxy.call.${randomUUID()}`;
  readonly replies: ConsumeMessage[] = [];
  private readonly waiting = new Map<string, (m: ConsumeMessage) => void>();
  private readonly returned = new Set<string>();

  private constructor(
    private readonly opts: PeerCallerOptions,
    private readonly consumerConn: ChannelModel,
    private readonly publisherConn: ChannelModel,
    private readonly pub: ConfirmChannel,
  ) {}

  static async start(opts: PeerCallerOptions): Promise<PeerCaller> {
    const consumerConn = await peerConnect(opts.uri, 0);
    const publisherConn = await peerConnect(opts.uri, 0);
    const pub = await publisherConn.createConfirmChannel();
    pub.on("error", () => undefined);
    const caller = new PeerCaller(opts, consumerConn, publisherConn, pub);
    pub.on("return", (m: ConsumeMessage) => caller.returned.add(m.properties.correlationId ?? ""));
    const ch: Channel = await consumerConn.createChannel();
    ch.on("error", () => undefined);
    await declareReplyQueue(ch, "standalone_rpc_proxy", caller.uuid);
    const queue = await declareReplyQueue(ch, "standalone_rpc_proxy", caller.uuid); // done twice (a kombu quirk)
    await ch.consume(queue, (m) => {
      if (!m) return;
      ch.ack(m);
      caller.replies.push(m);
      caller.waiting.get(m.properties.correlationId ?? "")?.(m);
    });
    return caller;
  }

  /** The reply queue name. */
  get replyQueue(): string {
    return `rpc.reply-standalone_rpc_proxy-${this.uuid}`;
  }

  /** Publishes a request to `routingKey` and waits for its reply message (raw). */
  async send(routingKey: string, body: string | Buffer, options: PeerSendOptions = {}): Promise<ConsumeMessage> {
    const correlationId = randomUUID();
    const props: Options.Publish = {
      mandatory: true,
      contentType: "application/json",
      contentEncoding: "utf-8",
      headers: pyContextHeaders(this.opts.contextData ?? {}, [this.callId]),
      deliveryMode: 2,
      priority: 0,
      correlationId,
      replyTo: this.uuid,
      ...options.properties,
    };
    const key: string = props.correlationId ?? ""; // replies without correlation_id are matched by ""
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<ConsumeMessage>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.opts.timeoutMs;
      timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.waiting.delete(key);
              reject(new PeerRpcTimeout(timeoutMs));
            }, timeoutMs);
      this.waiting.set(key, (m) => {
        if (timer) clearTimeout(timer);
        this.waiting.delete(key);
        resolve(m);
      });
    });
    await new Promise<void>((resolve, reject) =>
      this.pub.publish(RPC_EXCHANGE, routingKey, Buffer.from(body), props, (err: unknown) =>
        err ? reject(err) : resolve(),
      ),
    );
    if (this.returned.delete(key)) {
      this.waiting.delete(key);
      if (timer) clearTimeout(timer);
      reply.catch(() => undefined);
      throw new PeerUnknownService(routingKey.split(".")[0]);
    }
    return reply;
  }

  /** `proxy.<service>.<method>(*args, **kwargs)`; throws PeerRemoteError / PeerUnknownService / PeerRpcTimeout. */
  async call(
    service: string,
    method: string,
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
    timeoutMs?: number,
  ): Promise<unknown> {
    const m = await this.send(`${service}.${method}`, pyDumps({ args, kwargs }), { timeoutMs });
    const reply = JSON.parse(m.content.toString("utf8")) as { result?: unknown; error?: PyError | null };
    if (reply.error)
      throw new PeerRemoteError(reply.error.exc_type, reply.error.exc_path, reply.error.exc_args, reply.error.value);
    return reply.result;
  }

  async close(): Promise<void> {
    await this.consumerConn.close().catch(() => undefined);
    await this.publisherConn.close().catch(() => undefined);
  }
}
