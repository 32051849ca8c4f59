import {
  asciiBytes,
  bindArguments,
  bindDto,
  decodeRequest,
  describeError,
  type DtoClass,
  dtoClassOf,
  encodeErrorReply,
  encodeReplyBytes,
  MalformedRequest,
  PayloadTooLarge,
  type ErrorClass,
  isFunction,
  MethodNotFound,
  type MethodSignature,
  rpcQueueGroup,
  type RpcRequest,
  rpcServiceSubjects,
  rpcSubject,
  signatureOf,
  type SignatureOverride,
  validateName,
} from "../../compat";
import type { ContainerHandle, Entrypoint, WorkerOutcome } from "../core/extension";
import { registerEntrypoint } from "../core/metadata";
import { SharedExtension } from "../core/shared-extension";
import { rpcIntakePrefixOf } from "../config/defaults";
import { ServiceDefinitionError } from "../errors";
import { LazyNatsContext } from "../nats/headers";
import { rpcServerSpan } from "../tracing/attributes";
import type { EntrypointSpan } from "../tracing/tracing";
import { bodyRefOf, BodyStore, largeBodiesOf, withBodyRef } from "../nats/body-store";
import { maxPayloadOf, natsPayloadTooLarge, oversize } from "../nats/payload-size";

const EMPTY = new Uint8Array(0);
import type { InboundMessage, Intake } from "../nats/service-announcer";

/** Options of `@rpc()`, Nameko's `expected_exceptions` and `sensitive_arguments`. */
export interface RpcOptions {
  /**
   * Errors the method is expected to throw: logged as warnings; the reply is the same
   * (docs/nameko-wire.md, RPC server).
   */
  expectedExceptions?: readonly ErrorClass[];
  /** Parameter names (or `param.key` paths) whose values never appear in logs. */
  sensitiveArguments?: readonly string[];
  /** What JavaScript cannot express about the Python signature, e.g. `{ keywordOnly: ["flag"] }`. */
  signature?: SignatureOverride;
}

/** Declares an RPC method, served on `rpc.<service>.<method>` (docs/nats-contract.md, RPC requests and replies). */
export function rpc(options: RpcOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const methodName = String(propertyKey);
    validateName("method", methodName);
    // No descriptor when decorate() is given a name that is no method of the class.
    const fn: unknown = (descriptor as PropertyDescriptor | undefined)?.value;
    if (!isFunction(fn)) throw new ServiceDefinitionError(`@rpc() on ${methodName}: not a method`);
    // Parsed once when the class is defined, never per call.
    const signature = signatureOf(fn, methodName, options.signature);
    const dto = dtoClassOf(target, methodName);
    registerEntrypoint(target, () => new RpcEntrypoint(methodName, signature, dto, options));
  };
}

/** One `@rpc` method of one container; the container's shared RpcConsumer owns the subscription. */
export class RpcEntrypoint implements Entrypoint {
  readonly expectedExceptions?: readonly ErrorClass[];

  constructor(
    readonly methodName: string,
    readonly signature: MethodSignature,
    readonly dto: DtoClass | undefined,
    readonly options: RpcOptions,
  ) {
    this.expectedExceptions = options.expectedExceptions;
  }

  traceSpan?: EntrypointSpan;

  setup(container: ContainerHandle): void {
    const service = container.serviceName;
    this.traceSpan = rpcServerSpan(
      service,
      this.methodName,
      rpcSubject(service, this.methodName, rpcIntakePrefixOf(container.config)),
    );
    container.shared(RpcConsumer).register(this);
  }

  /** The JS arguments for a request, or a rejection with IncorrectSignature / ValidationFailed. */
  bindDto(request: RpcRequest): Promise<unknown[]> {
    // The parameter's own name lets a Python caller's `create(product={...})` bind the whole body.
    const paramName = this.signature.params[0]?.name;
    return bindDto(this.dto!, request.args, request.kwargs, this.methodName, paramName).then((instance) => [instance]);
  }

  /** Arguments with sensitive values replaced, for debug logs only. */
  redactedArgs(args: readonly unknown[]): Record<string, unknown> {
    const named: Record<string, unknown> = {};
    this.signature.params.forEach((p, i) => {
      if (i < args.length && args[i] !== undefined) named[p.name] = args[i];
    });
    for (const path of this.options.sensitiveArguments ?? []) redact(named, path.split("."));
    return named;
  }
}

/**
 * All @rpc methods of a container share one subscription on `rpc.<svc>.*`, queue group `rpc.<svc>`
 * (docs/nats-contract.md, RPC requests and replies: Nameko too has one queue per service), a shared
 * extension started before and stopped after the entrypoints. This is the hot path: no awaits before
 * the worker starts, no re-parsing, context decoded only when the worker reads it (LazyNatsContext).
 */
class RpcConsumer extends SharedExtension {
  private readonly methods = new Map<string, RpcEntrypoint>();
  private intake?: Intake;
  private stopping?: Promise<void>;
  /** Requests received and not yet answered. */
  private inFlight = 0;
  private idle?: () => void;
  private debug = false;
  /** Replies waiting for the next flushReplies, as two parallel arrays (no object per reply). */
  private replyMsgs: InboundMessage[] = [];
  private replyBodies: Uint8Array[] = [];

  register(entrypoint: RpcEntrypoint): void {
    this.methods.set(entrypoint.methodName, entrypoint);
  }

  /** Subscribe; every entrypoint registered during setup, before this starts. */
  start(): void {
    const { serviceName, config, announcer, log } = this.container;
    // The intake prefix, not NATS_PREFIX: a port behind the bridge serves privately (docs/routing.md, The shape: the bridge in front of both).
    const subject = rpcServiceSubjects(serviceName, rpcIntakePrefixOf(config));
    const queue = rpcQueueGroup(serviceName, rpcIntakePrefixOf(config));
    this.debug = log.isDebugEnabled();
    const methods = [...this.methods.keys()];
    if (announcer) this.intake = announcer.rpcIntake(subject, queue, methods, this.onMessage);
    else {
      const sub = this.container.nats.subscribe(subject, {
        queue,
        callback: (err, msg) => {
          if (err) log.error("rpc subscription failed", { error: err.message });
          else this.onMessage(msg);
        },
      });
      this.intake = { drain: () => sub.drain(), close: () => sub.unsubscribe() };
    }
    log.debug("rpc intake started", { subject, queue, methods });
  }

  /** Stop intake, then wait until every request already received has been answered. */
  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      await this.intake
        ?.drain()
        .catch((err: unknown) => this.container.log.warn("rpc drain failed", { error: String(err) }));
      if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    })());
  }

  kill(): void {
    this.intake?.close();
  }

  private readonly onMessage = (msg: InboundMessage): void => {
    this.inFlight++;
    let entrypoint: RpcEntrypoint | undefined;
    try {
      const subject = msg.subject;
      const method = subject.slice(subject.lastIndexOf(".") + 1);
      entrypoint = this.methods.get(method);
      // Route before unpacking, as Nameko does: an unknown method is MethodNotFound whatever the body.
      if (entrypoint === undefined) throw new MethodNotFound(method);
    } catch (error) {
      this.answer(msg, { ok: false, error });
      return;
    }
    // Read once: each read of a nats.js message's data with headers makes a new view of its bytes.
    const data = msg.data;
    const ref = data.length === 0 ? bodyRefOf(msg) : undefined;
    if (ref === undefined) {
      this.dispatch(msg, entrypoint, data);
      return;
    }
    // A body over max_payload, kept in the object store (docs/large-payloads.md).
    const target = entrypoint;
    BodyStore.of(this.container.nats)
      .take(ref)
      .then(
        (body) => this.dispatch(msg, target, body),
        (err: unknown) =>
          this.answer(msg, {
            ok: false,
            error: new MalformedRequest(describeError(err)),
          }),
      );
  };

  private dispatch(msg: InboundMessage, entrypoint: RpcEntrypoint, body: Uint8Array): void {
    try {
      const request = decodeRequest(body);
      if (entrypoint.dto !== undefined) {
        entrypoint.bindDto(request).then(
          (args) => this.run(msg, entrypoint, args),
          (err: unknown) => this.answer(msg, { ok: false, error: err }),
        );
        return;
      }
      this.run(msg, entrypoint, bindArguments(entrypoint.signature, request.args, request.kwargs));
    } catch (error) {
      // Routing, decoding and binding errors are answered without a worker (docs/nameko-wire.md, RPC server).
      this.answer(msg, { ok: false, error });
    }
  }

  private run(msg: InboundMessage, entrypoint: RpcEntrypoint, args: unknown[]): void {
    const context = new LazyNatsContext(msg);
    if (this.debug)
      this.container.log.debug("rpc call", { method: entrypoint.methodName, args: entrypoint.redactedArgs(args) });
    // Answered from the result handler: before dependencies' workerResult and teardown run.
    void this.container.spawnWorker(entrypoint, args, context, (_worker, outcome) => this.answer(msg, outcome));
  }

  /**
   * Reply with Nameko's envelope (docs/nameko-wire.md, RPC replies); a message without a reply subject is
   * fire-and-forget. Replies are queued and sent together from one process.nextTick: it runs once
   * the microtask queue has drained, so every reply of this turn (workers released one after
   * another by the max_workers semaphore) lands in one nats.js outbound flush, one socket write,
   * instead of one write per few replies (BENCHMARKS.md, profiles).
   */
  private answer(msg: InboundMessage, outcome: WorkerOutcome): void {
    if (msg.reply) {
      const body = this.encode(outcome);
      const max = maxPayloadOf(this.container.nats);
      const size = oversize(body, undefined, max);
      if (size === undefined) this.queueReply(msg, body);
      else this.answerLarge(msg, body, size, max!);
      return;
    }
    if (!outcome.ok && this.debug)
      this.container.log.debug("fire-and-forget call failed", { error: String(outcome.error) });
    this.done();
  }

  /** Send every queued reply; a request counts as answered (for stop()) once its reply is handed to nats.js. */
  private readonly flushReplies = (): void => {
    const msgs = this.replyMsgs;
    const bodies = this.replyBodies;
    this.replyMsgs = [];
    this.replyBodies = [];
    for (let i = 0; i < msgs.length; i++) {
      try {
        msgs[i].respond(bodies[i]);
      } catch (err) {
        this.container.log.error("rpc reply failed", {
          subject: msgs[i].subject,
          error: describeError(err),
        });
      }
      this.done();
    }
  };

  private queueReply(msg: InboundMessage, body: Uint8Array): void {
    this.replyMsgs.push(msg);
    this.replyBodies.push(body);
    if (this.replyMsgs.length === 1) process.nextTick(this.flushReplies);
  }

  /**
   * A reply over the server's max_payload (nats.js would refuse to publish it and the caller would
   * wait for its timeout): its body goes to the object store and the reply carries the ref
   * (docs/large-payloads.md); with large bodies off, or when the store fails, the caller gets a
   * PayloadTooLarge error reply instead.
   */
  private answerLarge(msg: InboundMessage, body: Uint8Array, size: number, max: number): void {
    const method = msg.subject.slice(msg.subject.lastIndexOf(".") + 1);
    const tooLarge = natsPayloadTooLarge(`reply of ${this.container.serviceName}.${method}`, size, max);
    const refuse = (error: PayloadTooLarge): void => {
      this.container.log.warn("rpc reply too large for NATS; PayloadTooLarge sent instead", {
        method,
        bytes: size,
        maxPayload: max,
        error: error.message,
        callIdStack: new LazyNatsContext(msg).parentStack,
      });
      this.queueReply(msg, asciiBytes(encodeErrorReply(error)));
    };
    const bucket = largeBodiesOf(this.container.config);
    if (bucket === false) {
      refuse(tooLarge);
      return;
    }
    BodyStore.of(this.container.nats)
      .put(bucket, body)
      .then(
        (ref) => {
          try {
            msg.respond(EMPTY, { headers: withBodyRef(undefined, ref) });
          } catch (err) {
            this.container.log.error("rpc reply failed", {
              subject: msg.subject,
              error: describeError(err),
            });
          }
          this.done();
        },
        (err: unknown) =>
          refuse(
            new PayloadTooLarge(
              `${tooLarge.message}, and the large-body store failed: ${describeError(err)}`,
              size,
              max,
            ),
          ),
      );
  }

  private done(): void {
    if (--this.inFlight === 0 && this.idle) this.idle();
  }

  private encode(outcome: WorkerOutcome): Uint8Array {
    try {
      return outcome.ok ? encodeReplyBytes(outcome.result) : asciiBytes(encodeErrorReply(outcome.error));
    } catch (err) {
      // encodeReply already turns an unencodable result into UnserializableValueError; this is the
      // last resort for an error object that cannot even be described.
      return asciiBytes(encodeErrorReply(new Error(`reply could not be encoded: ${describeError(err)}`)));
    }
  }
}

function redact(target: Record<string, unknown>, path: string[]): void {
  const [head, ...rest] = path;
  if (!(head in target)) return;
  if (rest.length === 0) target[head] = "********";
  else {
    const inner = target[head];
    if (inner !== null && typeof inner === "object" && !Array.isArray(inner)) {
      const copy = { ...(inner as Record<string, unknown>) };
      redact(copy, rest);
      target[head] = copy;
    }
  }
}
