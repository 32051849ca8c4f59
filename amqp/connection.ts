import { EventEmitter } from "node:events";
import * as amqp from "amqplib";
import type {
  Channel,
  ChannelModel,
  ConfirmChannel,
  ConsumeMessage,
  Message,
  Options,
  RecoveringChannelModel,
} from "amqplib";
import { silentLogger } from "./logger";
import { ConnectionFailed, describeError, type Logger, maskUrlCredentials, tlsFailureReason } from "../compat";
import { type AmqpSsl, amqpTlsSocketOptions, amqpUriForTls } from "./tls";
import { decodePyAmqpLongTags, pyAmqpLongTagsDecoded } from "./py-amqp-long";
import { amqpWritesBatched, batchAmqpWrites } from "./write-batching";

/** Reconnect backoff (amqplib's built-in exponential backoff with jitter). */
export interface ReconnectOptions {
  /** First delay after a connection loss. Default 100 ms. */
  initialDelayMs?: number;
  /** Longest delay between attempts. Default 5000 ms. */
  maxDelayMs?: number;
  /** Attempts before giving up; default: never give up. */
  maxRetries?: number;
  /** Attempts before the first successful connection; default: maxRetries. */
  initialMaxRetries?: number;
}

/** Options of {@link AmqpConnection}. */
export interface AmqpConnectionOptions {
  /** `amqp://user:pass@host:5672/vhost` (Nameko's AMQP_URI). */
  uri: string;
  logger?: Logger;
  /** Heartbeat in seconds (Nameko's HEARTBEAT, default 60); 0 disables it. */
  heartbeatSeconds?: number;
  /** Shown by RabbitMQ as the connection's `connection_name` client property. */
  connectionName?: string;
  reconnect?: ReconnectOptions;
  /**
   * Write the frames amqplib queues in one callback in one system call (default true;
   * docs/write-batching.md). Only this connection's socket is affected.
   */
  writeBatching?: boolean;
  /**
   * Nameko's `AMQP_SSL` (see amqpSslFromConfig): TLS with these certificates, also for an
   * `amqp://` URI. An `amqps://` URI without it uses TLS with the system's CAs.
   */
  ssl?: AmqpSsl;
}

/** What amqp/ does to the socket of an {@link AmqpConnection} (docs/write-batching.md). */
export interface AmqpSocketAdaptations {
  /** Frames queued in one callback leave in one system call. */
  writesBatched: boolean;
  /** A py-amqp `L` header (integer beyond 32 bits) is decoded instead of closing the connection. */
  pyAmqpLongTags: boolean;
}

/** The outcome of a confirmed publish. */
export interface PublishOutcome {
  /** True when the broker sent `basic.return` (mandatory publish, no route) before confirming. */
  returned: boolean;
}

/** The channel a consumer was set up on, with acks that are safe after a connection loss. */
export interface ConsumerChannel {
  readonly channel: Channel;
  /** False once the channel (or its connection) closed; its delivery tags are then void. */
  isOpen(): boolean;
  /** Ack, unless the channel is gone (the broker has already requeued the message). */
  ack(message: Message): void;
  /** Reject, unless the channel is gone. */
  reject(message: Message, requeue: boolean): void;
}

/** What a consumer does on each (re)connection: declare its topology, then `basic.consume`. */
export interface ConsumerSpec {
  /** For logs. */
  name: string;
  /** `basic.qos` prefetch for this consumer's channel (global=0, as Nameko); undefined = no qos. */
  prefetch?: number;
  /** Declares and consumes on the fresh channel; called again after every reconnect. */
  setup(channel: ConsumerChannel): Promise<void>;
}

/** A registered consumer; `close()` cancels it for good (no re-establishment). */
export interface ConsumerHandle {
  readonly name: string;
  /** The channel of the current connection, if established. */
  current(): ConsumerChannel | undefined;
  close(): Promise<void>;
}

interface Registration {
  spec: ConsumerSpec;
  closed: boolean;
  channel?: ConsumerChannel;
  reopenTimer?: NodeJS.Timeout;
  reopenDelayMs: number;
}

const REOPEN_MIN_MS = 200;
const REOPEN_MAX_MS = 30_000;

/**
 * One AMQP connection that reconnects by itself with backoff (amqplib recovery) and re-runs every
 * registered consumer's setup, each on its own channel with its own prefetch, so a channel error in
 * one consumer (a 406 on declare) does not take down the others. Publishing goes through one
 * confirm channel; mandatory publishes report `basic.return` (matched by correlation id, which
 * RabbitMQ sends before the confirm).
 *
 * Events: `ready` (connected and every consumer established), `disconnected` (err),
 * `consumer-error` (name, err).
 */
export class AmqpConnection extends EventEmitter {
  private readonly log: Logger;
  private recovering?: RecoveringChannelModel;
  private model?: ChannelModel;
  private publisher?: Promise<ConfirmChannel>;
  private readonly registrations = new Set<Registration>();
  private readonly returnWatch = new Map<string, Array<() => void>>();
  private connectWaiters: Array<{ resolve: (m: ChannelModel) => void; reject: (e: Error) => void }> = [];
  private closing = false;
  private isReady = false;
  /** Shape warnings already logged, so a reconnecting connection says it once. */
  private readonly warnedShape = new Set<"L" | "writes">();

  constructor(private readonly options: AmqpConnectionOptions) {
    super();
    this.log = options.logger ?? silentLogger;
  }

  /** True while connected with every consumer established. */
  get ready(): boolean {
    return this.isReady;
  }

  /**
   * Connects (retrying per the backoff); resolves after the first successful connection. A
   * certificate or TLS handshake failure of the first connection is not retried: it rejects with
   * ConnectionFailed naming the broker and the reason (docs/security.md, Failures at start-up).
   */
  async start(): Promise<void> {
    if (this.recovering) return this.whenReady();
    const r = this.options.reconnect ?? {};
    const { ssl } = this.options;
    const url = withHeartbeat(amqpUriForTls(this.options.uri, ssl), this.options.heartbeatSeconds ?? 60);
    const server = maskUrlCredentials(amqpUriForTls(this.options.uri, ssl));
    this.recovering = await amqp.connect(url, {
      ...(ssl ? amqpTlsSocketOptions(ssl) : {}),
      noDelay: true, // Nagle's algorithm added about 40 ms to every round trip
      clientProperties: { connection_name: this.options.connectionName ?? "cliffracer" },
      recovery: {
        initialDelay: r.initialDelayMs ?? 100,
        maxDelay: r.maxDelayMs ?? 5000,
        maxRetries: r.maxRetries ?? Infinity,
        initialMaxRetries: r.initialMaxRetries ?? r.maxRetries ?? Infinity,
        waitForConnect: false,
        // amqplib's hook for each new connection, before any channel is opened on it.
        setup: async (model: ChannelModel) => this.adaptSocket(model),
      },
    });
    const rec = this.recovering;
    let connectedOnce = false;
    let failStart: (err: Error) => void = () => undefined;
    const startFailed = new Promise<never>((_, reject) => (failStart = reject));
    rec.on("connect", (model: ChannelModel) => {
      connectedOnce = true;
      void this.onConnect(model);
    });
    rec.on("disconnect", (err: Error) => this.onDisconnect(err));
    rec.on("connect-failed", (err: Error) => {
      const tls = connectedOnce ? undefined : tlsFailureReason(err);
      if (tls !== undefined) {
        // No retry fixes a certificate: stop here rather than retrying silently forever.
        failStart(new ConnectionFailed("amqp", server, tls, { cause: err }));
        void this.close();
        return;
      }
      this.log.warn("amqp connection attempt failed", { uri: server, error: describeError(err) });
    });
    rec.on("reconnect-failed", (err: Error) => {
      this.log.error("amqp reconnect abandoned", { error: describeError(err) });
      this.rejectWaiters(err);
    });
    rec.on("error", (err: Error) => this.log.warn("amqp connection error", { error: describeError(err) }));
    rec.on("blocked", (reason: string) => this.log.warn("amqp connection blocked by the broker", { reason }));
    rec.on("unblocked", () => this.log.info("amqp connection unblocked"));
    await Promise.race([rec.waitForConnect(), startFailed]);
    await Promise.race([this.whenReady(), startFailed]);
  }

  /** What amqp/ does to the current connection's socket; undefined while disconnected. */
  socketAdaptations(): AmqpSocketAdaptations | undefined {
    const model = this.model;
    if (!model) return undefined;
    return { writesBatched: amqpWritesBatched(model), pyAmqpLongTags: pyAmqpLongTagsDecoded(model) };
  }

  /** Resolves once connected with every consumer established (now, or after the next reconnect). */
  whenReady(): Promise<void> {
    if (this.isReady) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onReady = (): void => {
        this.off("closed", onClosed);
        resolve();
      };
      const onClosed = (): void => {
        this.off("ready", onReady);
        reject(new Error("AMQP connection closed"));
      };
      this.once("ready", onReady);
      this.once("closed", onClosed);
    });
  }

  /**
   * Registers a consumer; resolves once it is established on the current connection. Its setup runs
   * again after every reconnect. A setup failure on first registration rejects (and unregisters);
   * later failures are logged, emitted as `consumer-error` and retried with backoff.
   */
  async addConsumer(spec: ConsumerSpec): Promise<ConsumerHandle> {
    if (this.closing) throw new Error("AMQP connection closed");
    const reg: Registration = { spec, closed: false, reopenDelayMs: REOPEN_MIN_MS };
    this.registrations.add(reg);
    const model = this.model ?? (await this.waitForModel());
    try {
      await this.openConsumer(model, reg);
    } catch (err) {
      this.registrations.delete(reg);
      throw err;
    }
    return {
      name: spec.name,
      current: () => (reg.channel?.isOpen() ? reg.channel : undefined),
      close: () => this.closeRegistration(reg),
    };
  }

  /**
   * Publishes on the confirm channel and resolves when the broker confirms. With `mandatory`,
   * `correlationId` is required: it is how a `basic.return` is matched to its publish. Rejects on a
   * nack, a channel/connection loss before the confirm, or an encoding error. Waits while
   * disconnected.
   */
  async publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    props: Options.Publish,
  ): Promise<PublishOutcome> {
    const key = props.mandatory ? props.correlationId : undefined;
    if (props.mandatory && typeof key !== "string") {
      throw new TypeError("a mandatory publish needs a correlationId to match basic.return");
    }
    const ch = await this.publisherChannel();
    return new Promise<PublishOutcome>((resolve, reject) => {
      let returned = false;
      const onReturn = (): void => {
        returned = true;
      };
      if (key !== undefined) this.watchReturn(key, onReturn);
      try {
        ch.publish(exchange, routingKey, content, props, (err: unknown) => {
          if (key !== undefined) this.unwatchReturn(key, onReturn);
          if (err) reject(err instanceof Error ? err : new Error(`publish not confirmed: ${String(err)}`));
          else resolve({ returned });
        });
      } catch (err) {
        if (key !== undefined) this.unwatchReturn(key, onReturn);
        reject(err);
      }
    });
  }

  /**
   * Runs `fn` on a short-lived channel of the current connection (declarations, passive checks).
   * The channel is closed afterwards; a channel error rejects without affecting anything else.
   */
  async withChannel<T>(fn: (channel: Channel) => Promise<T>): Promise<T> {
    const model = this.model ?? (await this.waitForModel());
    const ch = await model.createChannel();
    let closed = false;
    ch.on("error", () => undefined); // the rejected operation carries the error
    ch.on("close", () => {
      closed = true;
    });
    try {
      return await fn(ch);
    } finally {
      if (!closed) await ch.close().catch(() => undefined);
    }
  }

  /** Cancels every consumer and closes the connection; no more reconnects. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.isReady = false;
    for (const reg of this.registrations) await this.closeRegistration(reg);
    this.rejectWaiters(new Error("AMQP connection closed"));
    await this.recovering?.close().catch(() => undefined);
    this.model = undefined;
    this.publisher = undefined;
    this.emit("closed");
  }

  /**
   * Adapts a new connection's socket before any channel exists on it (docs/write-batching.md): it
   * learns py-amqp's `L` header tag, and its writes are batched unless the options say otherwise.
   * If amqplib no longer has the shape this relies on, the connection works as plain amqplib.
   */
  private adaptSocket(model: ChannelModel): void {
    if (!decodePyAmqpLongTags(model) && !this.warnedShape.has("L")) {
      this.warnedShape.add("L");
      this.log.warn(
        "amqplib no longer reads its socket as amqp/ knows: a py-amqp `L` header (integer beyond 32 bits) " +
          "will close the connection (docs/write-batching.md)",
      );
    }
    if (this.options.writeBatching !== false && !batchAmqpWrites(model) && !this.warnedShape.has("writes")) {
      this.warnedShape.add("writes");
      this.log.warn(
        "amqplib no longer keeps its socket where amqp/ looks: frames are written one system call each " +
          "(docs/write-batching.md)",
      );
    }
  }

  private async onConnect(model: ChannelModel): Promise<void> {
    this.model = model;
    this.publisher = undefined;
    this.log.info("amqp connected", { uri: maskUrlCredentials(this.options.uri) });
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const w of waiters) w.resolve(model);
    const pending = [...this.registrations].filter((reg) => !reg.closed && !reg.channel?.isOpen());
    await Promise.all(
      pending.map((reg) => this.openConsumer(model, reg).catch((err) => this.consumerFailed(model, reg, err))),
    );
    if (this.model === model && !this.closing) this.markReadyIfComplete();
  }

  private onDisconnect(err: Error): void {
    this.model = undefined;
    this.publisher = undefined;
    this.isReady = false;
    this.log.warn("amqp connection lost; reconnecting", { error: describeError(err) });
    this.emit("disconnected", err);
  }

  private markReadyIfComplete(): void {
    const complete = [...this.registrations].every((reg) => reg.closed || reg.channel?.isOpen());
    if (complete && !this.isReady) {
      this.isReady = true;
      this.emit("ready");
    }
  }

  private async openConsumer(model: ChannelModel, reg: Registration): Promise<void> {
    const ch = await model.createChannel();
    let open = true;
    const consumerChannel: ConsumerChannel = {
      channel: ch,
      isOpen: () => open,
      ack: (m) => {
        if (open) settleUnlessClosing(() => ch.ack(m));
      },
      reject: (m, requeue) => {
        if (open) settleUnlessClosing(() => ch.reject(m, requeue));
      },
    };
    ch.on("error", (err: Error) =>
      this.log.warn("amqp consumer channel error", { consumer: reg.spec.name, error: describeError(err) }),
    );
    ch.on("close", () => {
      open = false;
      if (reg.channel === consumerChannel) reg.channel = undefined;
      // A channel closed while its connection lives on (queue deleted, 406, server cancel):
      // re-establish it ourselves; connection losses are handled by onConnect.
      if (!reg.closed && !this.closing && this.model === model) this.scheduleReopen(model, reg);
    });
    try {
      if (reg.spec.prefetch !== undefined) await ch.prefetch(reg.spec.prefetch, false);
      await reg.spec.setup(consumerChannel);
    } catch (err) {
      if (open) await ch.close().catch(() => undefined);
      throw err;
    }
    if (reg.closed) {
      await ch.close().catch(() => undefined);
      return;
    }
    reg.channel = consumerChannel;
    reg.reopenDelayMs = REOPEN_MIN_MS;
    this.log.debug("amqp consumer established", { consumer: reg.spec.name });
  }

  private consumerFailed(model: ChannelModel, reg: Registration, err: unknown): void {
    this.log.error("amqp consumer setup failed", { consumer: reg.spec.name, error: describeError(err) });
    this.emit("consumer-error", reg.spec.name, err);
    if (this.model === model) this.scheduleReopen(model, reg);
  }

  private scheduleReopen(model: ChannelModel, reg: Registration): void {
    if (reg.reopenTimer || reg.closed) return;
    this.isReady = false;
    const delay = reg.reopenDelayMs;
    reg.reopenDelayMs = Math.min(REOPEN_MAX_MS, delay * 2);
    reg.reopenTimer = setTimeout(() => {
      reg.reopenTimer = undefined;
      if (reg.closed || this.closing || this.model !== model) return;
      this.openConsumer(model, reg).then(
        () => this.markReadyIfComplete(),
        (err) => this.consumerFailed(model, reg, err),
      );
    }, delay);
    reg.reopenTimer.unref();
  }

  private async closeRegistration(reg: Registration): Promise<void> {
    reg.closed = true;
    this.registrations.delete(reg);
    if (reg.reopenTimer) clearTimeout(reg.reopenTimer);
    const cc = reg.channel;
    reg.channel = undefined;
    if (cc?.isOpen()) await cc.channel.close().catch(() => undefined);
    this.markReadyIfComplete();
  }

  private publisherChannel(): Promise<ConfirmChannel> {
    if (this.publisher) return this.publisher;
    const created = (this.model ? Promise.resolve(this.model) : this.waitForModel()).then(async (model) => {
      const ch = await model.createConfirmChannel();
      ch.on("error", (err: Error) => this.log.warn("amqp publisher channel error", { error: describeError(err) }));
      ch.on("close", () => {
        if (this.publisher === created) this.publisher = undefined;
      });
      ch.on("return", (msg: Message) => {
        const id: unknown = msg.properties.correlationId;
        const watchers = typeof id === "string" ? this.returnWatch.get(id) : undefined;
        if (watchers) for (const w of watchers) w();
        else this.log.debug("amqp basic.return for an untracked publish", { routingKey: msg.fields.routingKey });
      });
      return ch;
    });
    this.publisher = created;
    created.catch(() => {
      if (this.publisher === created) this.publisher = undefined;
    });
    return created;
  }

  private watchReturn(key: string, fn: () => void): void {
    const list = this.returnWatch.get(key);
    if (list) list.push(fn);
    else this.returnWatch.set(key, [fn]);
  }

  private unwatchReturn(key: string, fn: () => void): void {
    const list = this.returnWatch.get(key);
    if (!list) return;
    const rest = list.filter((f) => f !== fn);
    if (rest.length) this.returnWatch.set(key, rest);
    else this.returnWatch.delete(key);
  }

  private waitForModel(): Promise<ChannelModel> {
    if (this.closing) return Promise.reject(new Error("AMQP connection closed"));
    return new Promise((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
  }

  private rejectWaiters(err: Error): void {
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const w of waiters) w.reject(err);
  }
}

/**
 * Runs an ack or reject, unless the channel is already closing: amqplib then throws
 * IllegalOperationError ("Channel closing") before its `close` event has told us, and the broker
 * requeues the channel's unacked messages anyway, so the settlement has nothing left to do.
 */
function settleUnlessClosing(settle: () => void): void {
  try {
    settle();
  } catch (err) {
    if (!(err instanceof Error && err.name === "IllegalOperationError")) throw err;
  }
}

/** Adds `?heartbeat=` unless the URI sets it. */
function withHeartbeat(uri: string, seconds: number): string {
  const url = new URL(uri);
  if (!url.searchParams.has("heartbeat")) url.searchParams.set("heartbeat", String(seconds));
  return url.toString();
}

/** Re-exported amqplib message type so users of amqp/ need not import amqplib. */
export type { ConsumeMessage };
