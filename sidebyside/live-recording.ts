/**
 * Recording a Nameko original live (docs/cassettes.md, Recording the examples): a private vhost,
 * the originals running there with Nameko's own runner, stub services answering for the
 * dependencies that are not run, and `record` on while a Nameko-protocol client sends the calls
 * and a Nameko-protocol dispatcher dispatches the events.
 * The vhost is deleted afterwards, whatever happened.
 */
import type { Credentials } from "./credentials";
import { randomBytes, randomUUID } from "node:crypto";
import {
  AmqpConnection,
  AmqpEventDispatcher,
  AmqpRpcClient,
  AmqpRpcServer,
  defaultManagementUrl,
  ManagementApi,
  type IncomingRpcRequest,
} from "../amqp";
import { decodeRequest, encodeReply, type Logger, type MaskSpec } from "../compat";
import { KwArgs } from "../src";
import { DEFAULT_HANDLED_QUIET_MS } from "./assembler";
import type { CallSpec, EventSpec } from "./calls-file";
import { startNamekoOriginal, type NamekoOriginal, type NamekoOriginalOptions } from "./nameko-original";
import { record, type RecordSummary } from "./recorder";

/** A stub method: positional arguments, then a `KwArgs` when the call had keyword arguments. */
export type StubMethod = (...args: unknown[]) => unknown;
/** Stub services: service name -> method name -> implementation. */
export type StubServices = Record<string, Record<string, StubMethod>>;

/** Options of {@link recordOriginal}. */
export interface LiveRecordingOptions {
  /** The Nameko modules to run, each with its service classes. */
  originals: Array<Pick<NamekoOriginalOptions, "module" | "classes" | "config" | "pythonPath">>;
  /** The service whose calls are recorded. */
  service: string;
  calls: readonly CallSpec[];
  /** Events dispatched to the service's handlers after the calls. */
  events?: readonly EventSpec[];
  /** The cassette to write. */
  out: string;
  /** Answer for these services instead of running them. */
  stubs?: StubServices;
  /** RabbitMQ without a vhost; default AMQP_URI's host, else amqp://guest:guest@127.0.0.1:5672. */
  amqpBase?: string;
  masks?: MaskSpec;
  log: Logger;
}

/** The AMQP URI of `vhost` on the broker of `base`. */
function vhostUri(base: string, vhost: string): string {
  const url = new URL(base);
  url.pathname = `/${encodeURIComponent(vhost)}`;
  return url.toString();
}

/** A stub service's reply to one request: its method's result, or the error it threw. */
async function answerStub(methods: Record<string, StubMethod>, request: IncomingRpcRequest): Promise<Buffer | string> {
  const method = methods[request.method];
  if (method === undefined) throw new Error(`stub ${request.service} has no method ${request.method}`);
  const { args, kwargs } = decodeRequest(request.body);
  const trailing = Object.keys(kwargs).length > 0 ? [new KwArgs(kwargs)] : [];
  return encodeReply(await method(...args, ...trailing));
}

/** The service name in the call id of the dispatcher that sends a live comparison's events. */
export const SIDE_BY_SIDE_DISPATCHER = "cliffracer_side_by_side";

/** Options of {@link recordCalls}. */
export interface CallRecordingOptions {
  /** RabbitMQ, with the vhost where `service` runs. */
  amqpUri: string;
  /** Default: `http://<AMQP host>:15672` with the AMQP credentials. */
  managementUrl?: string;
  /** TLS (Nameko's AMQP_SSL) for the connections. */
  credentials?: Credentials;
  service: string;
  calls: readonly CallSpec[];
  /** Dispatched after the calls, one after another. */
  events?: readonly EventSpec[];
  /** The cassette to write. */
  out: string;
  masks?: MaskSpec;
  log: Logger;
}

/**
 * Records `service` from RabbitMQ's firehose while a Nameko-protocol client sends it `calls`, one
 * after another, then a dispatcher dispatches `events`: the cassette holds each call with its reply
 * and what its worker did, and each event as every handler of the service got it, with what the
 * handler's worker did. With events, recording ends once the handlers have been quiet for twice the
 * time a handled event is kept open (docs/cassettes.md, Linking).
 */
export async function recordCalls(options: CallRecordingOptions): Promise<RecordSummary> {
  const connection = new AmqpConnection({
    uri: options.amqpUri,
    ssl: options.credentials?.amqpSsl,
    connectionName: "cliffracer-side-by-side",
    logger: options.log,
  });
  try {
    await connection.start();
    const client = new AmqpRpcClient({ connection, timeoutMs: 30_000, logger: options.log });
    await client.start();
    let listening = (): void => undefined;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const events = options.events ?? [];
    const stop = new AbortController();
    const recording = record({
      side: "amqp",
      services: [options.service],
      out: options.out,
      amqpUri: options.amqpUri,
      credentials: options.credentials,
      managementUrl: options.managementUrl,
      natsUrl: "",
      // Handled events have no count known beforehand: with events, the recording is stopped below.
      max: events.length === 0 ? options.calls.length : undefined,
      signal: stop.signal,
      masks: options.masks,
      onListening: () => listening(),
      log: options.log,
    });
    await Promise.race([ready, recording]);
    for (const call of options.calls) {
      // An error reply is recorded like any other answer.
      await client
        .call(options.service, call.method, call.args ?? [], call.kwargs ?? {}, { contextData: call.context })
        .catch(() => undefined);
    }
    if (events.length > 0) {
      const dispatcher = new AmqpEventDispatcher({ connection });
      try {
        for (const event of events)
          await dispatcher.dispatch(event.source, event.type, event.payload, {
            contextData: event.context ?? {},
            callIdStack: [`${SIDE_BY_SIDE_DISPATCHER}.dispatch.${randomUUID()}`],
          });
        await new Promise((resolve) => setTimeout(resolve, 2 * DEFAULT_HANDLED_QUIET_MS));
      } catch (err) {
        // A dispatch that failed still ends the recording, which switches tracing off again.
        stop.abort();
        await recording.catch(() => undefined);
        throw err;
      }
      stop.abort();
    }
    const summary = await recording;
    await client.stop();
    return summary;
  } finally {
    await connection.close();
  }
}

/** Runs the originals in a private vhost and records `service` while `calls` are sent to it. */
export async function recordOriginal(options: LiveRecordingOptions): Promise<RecordSummary> {
  const vhost = `cliffracer-original-${randomBytes(4).toString("hex")}`;
  const amqpUri = vhostUri(options.amqpBase ?? process.env.AMQP_URI ?? "amqp://guest:guest@127.0.0.1:5672", vhost);
  const management = new ManagementApi(defaultManagementUrl(amqpUri));
  const user = decodeURIComponent(new URL(amqpUri).username || "guest");
  await management.putJson(`/api/vhosts/${encodeURIComponent(vhost)}`, {});
  const running: NamekoOriginal[] = [];
  const connection = new AmqpConnection({ uri: amqpUri, connectionName: "cliffracer-stubs", logger: options.log });
  try {
    await management.putJson(`/api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(user)}`, {
      configure: ".*",
      write: ".*",
      read: ".*",
    });
    await connection.start();
    for (const [service, methods] of Object.entries(options.stubs ?? {})) {
      const server = new AmqpRpcServer({ connection, service, handler: (request) => answerStub(methods, request) });
      await server.start();
    }
    for (const original of options.originals) running.push(await startNamekoOriginal({ ...original, amqpUri }));
    return await recordCalls({ ...options, amqpUri });
  } finally {
    await connection.close();
    for (const original of running) await original.stop();
    await management.delete(`/api/vhosts/${encodeURIComponent(vhost)}`).catch(() => undefined);
  }
}
