// Every name on the wire: NATS subjects and JetStream names (docs/nats-contract.md, Subjects) and
// Nameko's AMQP exchanges, queues and keys (docs/nameko-wire.md, Exchanges and queues).
import { createHash } from "node:crypto";
import { InvalidName } from "./errors";

/** What a validated name is used as; appears in error messages. */
export type NameKind = "service" | "method" | "event type";

/** True when `text` holds an ASCII control character (U+0000-U+001F or DEL). */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

const hasWhitespaceOrControl = (text: string): boolean => /\s/.test(text) || hasControlCharacter(text);

/**
 * Check that a name is usable as exactly one subject token and return it. Refused: empty,
 * whitespace or control characters, the NATS wildcards `*` and `>`, and `.` (it would add a
 * token, so a caller could reach another subject; Nameko's routing keys also take one word per
 * part, docs/nameko-wire.md, RPC server).
 */
export function validateName(kind: NameKind, name: string): string {
  const problem =
    typeof name !== "string" || name.length === 0
      ? "is empty"
      : hasWhitespaceOrControl(name)
        ? "contains whitespace or a control character"
        : name.includes("*") || name.includes(">")
          ? "contains a NATS wildcard (`*` or `>`)"
          : name.includes(".")
            ? "contains `.`, which would split it into several subject tokens"
            : undefined;
  if (problem) throw new InvalidName(`Invalid ${kind} name ${JSON.stringify(name)}: it ${problem}`);
  return name;
}

/** Check a subject prefix: dot-separated tokens, none empty, no wildcards or whitespace. */
export function validatePrefix(prefix: string): string {
  if (prefix === "") return prefix;
  const bad = prefix
    .split(".")
    .some((t) => t.length === 0 || hasWhitespaceOrControl(t) || t.includes("*") || t.includes(">"));
  if (bad)
    throw new InvalidName(
      `Invalid subject prefix ${JSON.stringify(prefix)}: it must be dot-separated tokens without wildcards, whitespace or empty tokens`,
    );
  return prefix;
}

function withPrefix(prefix: string, subject: string): string {
  return prefix === "" ? subject : `${validatePrefix(prefix)}.${subject}`;
}

/** `[prefix.]rpc.<service>.<method>` */
export function rpcSubject(service: string, method: string, prefix = ""): string {
  return withPrefix(prefix, `rpc.${validateName("service", service)}.${validateName("method", method)}`);
}

/** `[prefix.]rpc.<service>.*`: every method of a service. */
export function rpcServiceSubjects(service: string, prefix = ""): string {
  return withPrefix(prefix, `rpc.${validateName("service", service)}.*`);
}

/** `[prefix.]rpc.<service>`: the queue group shared by a service's instances. */
export function rpcQueueGroup(service: string, prefix = ""): string {
  return withPrefix(prefix, `rpc.${validateName("service", service)}`);
}

/**
 * The method an RPC subject addresses: its last token, as Nameko's MethodNotFound reports it
 * (docs/nameko-wire.md, RPC server).
 */
export function methodOfSubject(subject: string): string {
  return subject.slice(subject.lastIndexOf(".") + 1);
}

/** `[prefix.]events.<source>.<event_type>` */
export function eventSubject(source: string, eventType: string, prefix = ""): string {
  return withPrefix(prefix, `events.${validateName("service", source)}.${validateName("event type", eventType)}`);
}

/** `[prefix.]events.>`: what the events stream captures. */
export function eventsSubjectFilter(prefix = ""): string {
  return withPrefix(prefix, "events.>");
}

/** `NAMEKO_EVENTS`, or `<PREFIX>_NAMEKO_EVENTS` with the prefix upper-cased and reduced to `[A-Z0-9_-]`. */
export function eventsStreamName(prefix = ""): string {
  if (prefix === "") return "NAMEKO_EVENTS";
  return `${validatePrefix(prefix)
    .toUpperCase()
    .replace(/[^A-Z0-9_-]/g, "_")}_NAMEKO_EVENTS`;
}

/**
 * The object store bucket of bodies too large for one NATS message: `CLIFFRACER_BODIES`, or
 * `<PREFIX>_CLIFFRACER_BODIES` reduced as eventsStreamName reduces it (docs/large-payloads.md).
 */
export function largeBodiesBucketName(prefix = ""): string {
  if (prefix === "") return "CLIFFRACER_BODIES";
  return `${validatePrefix(prefix)
    .toUpperCase()
    .replace(/[^A-Z0-9_-]/g, "_")}_CLIFFRACER_BODIES`;
}

// ---------------------------------- Nameko's AMQP names (docs/nameko-wire.md, Exchanges and queues)

/** Nameko's RPC exchange (config key `rpc_exchange`). */
export const RPC_EXCHANGE = "nameko-rpc";

/** `rpc-<service>` */
export function rpcQueueName(service: string): string {
  return `rpc-${service}`;
}

/** `<service>.*` */
export function rpcBindingKey(service: string): string {
  return `${service}.*`;
}

/** `rpc.reply-<owner>-<uuid>`; the binding key is the bare uuid (docs/nameko-wire.md, RPC client). */
export function replyQueueName(owner: string, uuid: string): string {
  return `rpc.reply-${owner}-${uuid}`;
}

/** `<source>.events` */
export function eventsExchangeName(source: string): string {
  return `${source}.events`;
}

/**
 * Who receives an event: Nameko's handler types, by their `nameko.events` string values
 * (docs/nameko-wire.md, Event handler queues). Use the members (`HandlerType.SINGLETON`) or the strings.
 */
export const HandlerType = {
  /** One consumer per (service, method): instances of a service compete, other services get their own copy. */
  SERVICE_POOL: "service_pool",
  /** One consumer per (source, event type): exactly one handler in the whole cluster gets each event. */
  SINGLETON: "singleton",
  /** One consumer per running instance: every instance gets a copy. */
  BROADCAST: "broadcast",
} as const;

/** One of Nameko's handler types. */
export type HandlerType = (typeof HandlerType)[keyof typeof HandlerType];

/** An event handler's queue, as Nameko names it per handler type (docs/nameko-wire.md, Event handler queues). */
export interface EventQueueSpec {
  source: string;
  eventType: string;
  handlerType: HandlerType;
  service: string;
  method: string;
  /** Required for broadcast handlers (Nameko's default: a uuid4 in 32-hex form per start). */
  broadcastId?: string;
}

/** `evt-<source>-<type>` (singleton), `…--<service>.<method>` (service pool), `…-<broadcastId>` (broadcast). */
export function eventQueueName(spec: EventQueueSpec): string {
  const base = `evt-${spec.source}-${spec.eventType}`;
  switch (spec.handlerType) {
    case "singleton":
      return base;
    case "service_pool":
      return `${base}--${spec.service}.${spec.method}`;
    case "broadcast":
      if (!spec.broadcastId) throw new InvalidName("A broadcast handler queue needs a broadcastId");
      return `${base}--${spec.service}.${spec.method}-${spec.broadcastId}`;
    default:
      throw new InvalidName(`Unknown handler type ${JSON.stringify(spec.handlerType)}`);
  }
}

/**
 * The handler an event handler queue belongs to, read back from its name: `--<service>.<method>`,
 * then for a broadcast queue `-<id>` (a method name, a Python identifier, has no `-`). Undefined
 * for a singleton queue, which names no handler, and for any other queue.
 */
export function handlerOfEventQueue(queue: string): { service: string; method: string } | undefined {
  if (!queue.startsWith("evt-")) return undefined;
  const sep = queue.lastIndexOf("--");
  if (sep < 0) return undefined;
  const rest = queue.slice(sep + 2);
  const dot = rest.indexOf(".");
  if (dot <= 0) return undefined;
  const method = rest.slice(dot + 1).split("-")[0] ?? "";
  return method === "" ? undefined : { service: rest.slice(0, dot), method };
}

const MAX_CONSUMER_NAME = 200;

/**
 * A JetStream durable consumer name for a Nameko queue name: characters outside
 * `[A-Za-z0-9_-]` become `_` and a hash of the original is appended, so names that differ only
 * in replaced characters stay distinct; deterministic, so every instance finds the same consumer.
 */
export function durableConsumerName(queueName: string): string {
  const hash = createHash("sha256").update(queueName).digest("hex").slice(0, 10);
  const safe = queueName.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, MAX_CONSUMER_NAME);
  return `${safe}-${hash}`;
}
