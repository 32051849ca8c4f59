// Nameko's error classes and its error object (docs/nameko-wire.md, Error object, Nameko exception classes).
// Class names are the `exc_type` a Python caller sees, so they are part of the wire and never renamed.
import { types } from "node:util";
import { isError, isPlainObject, pyRepr, pyStr, pyStrArgs } from "./python";

/** What Python's serialize() writes as `value` when `str(exc)` raises (docs/nameko-wire.md, Error object). */
const UNREADABLE = "[__unicode__ failed]";

/** The `error` member of a Nameko reply, keys in wire order (docs/nameko-wire.md, Error object). */
export interface SerializedError {
  exc_type: string;
  exc_path: string;
  exc_args: unknown[];
  value: string;
}

/** Any error class: registries and decorators accept constructors of any arity. */
export type ErrorClass = abstract new (...args: never[]) => Error;

type Instantiable = new (...args: unknown[]) => Error;

/** `read()`, or undefined when it throws (a failing getter, a value too deep to print). */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function strOfArgs(args: readonly unknown[]): string {
  return attempt(() => pyStrArgs(args)) ?? UNREADABLE;
}

/**
 * Base of the errors that mirror a Python exception: keeps the constructor arguments as
 * `excArgs` (Python's `exc.args`) and derives the message the way Python's `str(exc)` does.
 */
export class NamekoError extends Error {
  /** The constructor arguments, serialized as `exc_args`. */
  readonly excArgs: unknown[];

  constructor(...args: unknown[]) {
    super(strOfArgs(args));
    this.excArgs = args;
    this.name = new.target.name;
  }

  /** The `exc_path` this error is serialized with. */
  get excPath(): string {
    return excPathOf(this);
  }
}

/** Nameko's base of caller-side errors (HTTP maps it to 400). */
export class BadRequest extends NamekoError {}

/** The RPC body lacks `args` or `kwargs`, or is not a JSON object. */
export class MalformedRequest extends BadRequest {}

/** No `@rpc` method of that name; the argument is the method name. */
export class MethodNotFound extends BadRequest {}

/**
 * The arguments do not bind to the method; the message is Python's own TypeError text
 * (docs/nameko-wire.md, Argument binding).
 */
export class IncorrectSignature extends BadRequest {}

/** No open WebSocket with this socket id (a hub subscribe for a socket that closed); the argument is the id. */
export class ConnectionNotFound extends BadRequest {}

/** A DTO argument failed class-validator validation; `fields` maps property paths to messages. */
export class ValidationFailed extends BadRequest {
  readonly fields: Record<string, string[]>;
  constructor(fields: Record<string, string[]>) {
    super(fields);
    this.fields = fields;
  }
}

/**
 * Client-side stand-in for a remote exception whose `exc_path` is not registered
 * (docs/nameko-wire.md, Error deserialisation).
 */
export class RemoteError extends NamekoError {
  readonly excType: string;
  readonly value: string;
  constructor(excType: string, value: string) {
    // Python's RemoteError passes one formatted string to Exception, so that is its only arg.
    super(`${excType} ${value}`);
    this.excType = excType;
    this.value = value;
  }
}

/** Nothing listens for the requested service (docs/nameko-wire.md, UnknownService); raised locally, never sent. */
export class UnknownService extends NamekoError {
  readonly serviceName: string;
  constructor(serviceName: string) {
    super(serviceName);
    this.serviceName = serviceName;
    this.message = `Unknown service \`${serviceName}\``;
  }
}

/** A return value could not be JSON-encoded; Nameko sends it with no args (docs/nameko-wire.md, RPC replies). */
export class UnserializableValueError extends NamekoError {
  readonly reprValue: string;
  constructor(value: unknown) {
    super();
    let text: string;
    try {
      text = pyRepr(value);
    } catch {
      text = "[__repr__ failed]";
    }
    this.reprValue = text;
    this.message = `Unserializable value: \`${text}\``;
  }
}

/** A call got no reply within its timeout; the argument is the timeout in seconds. */
export class RpcTimeout extends NamekoError {
  readonly timeoutSeconds: number;
  constructor(timeoutSeconds: number) {
    super(timeoutSeconds);
    this.timeoutSeconds = timeoutSeconds;
  }
}

/** A reply body that is not Nameko's `{result, error}` object. */
export class MalformedReply extends NamekoError {}

/**
 * A message larger than the transport it must cross allows (NATS `max_payload`, RabbitMQ
 * `max_message_size`, the large-body store's limit). Answered at once instead of the caller's
 * timeout; `size` and `limit` are in bytes (docs/large-payloads.md).
 */
export class PayloadTooLarge extends NamekoError {
  /** Bytes the message would take on the wire; NaN when the sender did not say. */
  readonly size: number;
  /** The limit it exceeds, in bytes; NaN when the sender did not say. */
  readonly limit: number;
  constructor(message: string, size: number, limit: number) {
    super(message, size, limit);
    // On the wire exc_args are strings (Nameko's safe_for_serialization), so a received error
    // carries "1048576": read back as numbers.
    this.size = Number(size);
    this.limit = Number(limit);
    // Python's str() of a three-argument exception is the tuple; the sentence is what callers read.
    this.message = message;
  }
}

/**
 * A call crossed the bridge, and the bridge that carried it died before its reply reached the
 * caller: it may have run, so it is not run again, and no reply is known (docs/at-most-once.md).
 * The caller decides whether a retry is safe. Registered, so TS callers get this class back.
 */
export class CallOutcomeUnknown extends NamekoError {}

/**
 * A proxy refused a call at once, sending nothing, because its circuit breaker for the service is
 * open: recent calls to it timed out or found no responder (docs/resilience.md, Circuit breaker).
 */
export class CircuitOpen extends NamekoError {
  readonly serviceName: string;
  constructor(serviceName: string) {
    super(serviceName);
    this.serviceName = serviceName;
    this.message = `Circuit open for service \`${serviceName}\``;
  }
}

/**
 * A proxy refused a call at once, sending nothing, because the service already has as many calls
 * running and queued as its bulkhead allows (docs/resilience.md, Bulkhead).
 */
export class BulkheadFull extends NamekoError {
  readonly serviceName: string;
  /** Calls the bulkhead lets run at once. */
  readonly concurrency: number;
  /** Calls it lets wait for a slot. */
  readonly maxQueue: number;
  constructor(serviceName: string, concurrency: number, maxQueue: number) {
    super(serviceName, concurrency, maxQueue);
    this.serviceName = String(serviceName);
    // exc_args arrive as strings (see PayloadTooLarge).
    this.concurrency = Number(concurrency);
    this.maxQueue = Number(maxQueue);
    this.message = `Bulkhead full for service \`${serviceName}\`: ${concurrency} calls running, ${maxQueue} queued`;
  }
}

/** Invalid configuration (Nameko's ConfigurationError). */
export class ConfigurationError extends NamekoError {}

/** A service, method or event type name that cannot be used as a subject token. */
export class InvalidName extends ConfigurationError {}

// Python built-ins, so a port can raise what the Python original raised and callers see the
// same exc_type/exc_path. Not registered for deserialization: Nameko turns them into RemoteError.

/** Python's `Exception`. */
export class Exception extends NamekoError {}
/** Python's `ValueError`. */
export class ValueError extends Exception {}
/** Python's `LookupError`. */
export class LookupError extends Exception {}
/**
 * Python's `KeyError`: its `str()` is the repr of the key, so the value is quoted
 * (docs/nameko-wire.md, Error object).
 */
export class KeyError extends LookupError {
  constructor(...args: unknown[]) {
    super(...args);
    if (args.length === 1) this.message = attempt(() => pyRepr(args[0])) ?? UNREADABLE;
  }
}
/** Python's `IndexError`. */
export class IndexError extends LookupError {}
/** Python's `AttributeError`. */
export class AttributeError extends Exception {}
/** Python's `RuntimeError`. */
export class RuntimeError extends Exception {}
/** Python's `NotImplementedError`. */
export class NotImplementedError extends RuntimeError {}
/** Python's `PermissionError`. */
export class PermissionError extends Exception {}

const registry = new Map<string, Instantiable>();
const pathOfClass = new Map<ErrorClass, string>();

/** Options of {@link registerError}. */
export interface RegisterErrorOptions {
  /**
   * Also turn errors with this `exc_path` back into `cls` on the caller's side (default true).
   * False only names the path `cls` is serialized with: callers then get a RemoteError, as
   * Nameko's do for any class outside its registry.
   */
  deserialize?: boolean;
}

/**
 * Serialize instances of `cls` (not of its subclasses, which get their own path) with this
 * `exc_path`, and deserialize errors with it to `cls` (built from `exc_args`).
 */
export function registerError(excPath: string, cls: ErrorClass, options: RegisterErrorOptions = {}): void {
  if (options.deserialize ?? true) registry.set(excPath, cls as unknown as Instantiable);
  pathOfClass.set(cls, excPath);
}

/** Class decorator form of registerError: `@namekoError("myservice.exceptions.NotFound")`. */
export function namekoError(excPath: string): <C extends ErrorClass>(cls: C) => C {
  return (cls) => {
    registerError(excPath, cls);
    return cls;
  };
}

/** The registered class for an `exc_path`, if any. */
export function registeredError(excPath: string): ErrorClass | undefined {
  return registry.get(excPath);
}

/**
 * The Python module of each class above: its `exc_path` is `<module>.<class name>`
 * (docs/nameko-wire.md, Nameko exception classes).
 */
const PYTHON_MODULES: ReadonlyArray<readonly [string, readonly ErrorClass[]]> = [
  [
    "nameko.exceptions",
    [
      BadRequest,
      MalformedRequest,
      MethodNotFound,
      IncorrectSignature,
      ConnectionNotFound,
      RemoteError,
      UnknownService,
      UnserializableValueError,
      RpcTimeout,
      ConfigurationError,
    ],
  ],
  [
    "cliffracer.exceptions",
    [NamekoError, ValidationFailed, MalformedReply, PayloadTooLarge, InvalidName, CircuitOpen, BulkheadFull],
  ],
  ["cliffracer.bridge", [CallOutcomeUnknown]],
  [
    "builtins",
    [
      Exception,
      ValueError,
      LookupError,
      KeyError,
      IndexError,
      AttributeError,
      RuntimeError,
      NotImplementedError,
      PermissionError,
    ],
  ],
];

/**
 * Nameko's built-in registry (docs/nameko-wire.md, Error deserialisation) plus our own errors that
 * carry fields, so TS callers get them back as themselves; every other class above reaches a
 * caller as RemoteError, as it would a Nameko caller.
 */
const DESERIALIZED = new Set<ErrorClass>([
  MalformedRequest,
  MethodNotFound,
  IncorrectSignature,
  ValidationFailed,
  PayloadTooLarge,
  CallOutcomeUnknown,
  CircuitOpen,
  BulkheadFull,
]);

for (const [module, classes] of PYTHON_MODULES) {
  for (const cls of classes) registerError(`${module}.${cls.name}`, cls, { deserialize: DESERIALIZED.has(cls) });
}

const JS_BUILTIN_ERRORS = new Set<unknown>([
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError,
]);
const JS_BUILTIN_ERROR_NAMES = new Set([...JS_BUILTIN_ERRORS].map((c) => (c as ErrorConstructor).name));

/** A JavaScript built-in error class, also when it comes from another realm. */
function isBuiltinErrorClass(ctor: unknown, err: Error): boolean {
  if (JS_BUILTIN_ERRORS.has(ctor)) return true;
  return (
    types.isNativeError(err) &&
    typeof ctor === "function" &&
    JS_BUILTIN_ERROR_NAMES.has(ctor.name) &&
    Object.getPrototypeOf(err) === (ctor as ErrorConstructor).prototype
  );
}

/**
 * Nameko's `exc_type` of anything thrown: an error's explicit `name`, else its constructor's name;
 * Python's `Exception` for a value that is not an error (as serializeError reports it).
 */
export function excTypeOf(err: unknown): string {
  if (!isError(err)) return "Exception";
  const name = attempt(() => err.name);
  if (typeof name === "string" && name && name !== "Error") return name;
  return err.constructor?.name || "Error";
}

/**
 * The `exc_path` of an error: the one registered for its class, else
 * `builtins.<Name>` for JavaScript's built-in error classes (mirroring where Python keeps its
 * built-ins; the JavaScript name is kept, so a plain Error is `builtins.Error`), else
 * `cliffracer.remote.<Name>`.
 */
export function excPathOf(err: Error): string {
  const ctor = err.constructor as ErrorClass | undefined;
  if (ctor) {
    const registered = pathOfClass.get(ctor);
    if (registered !== undefined) return registered;
    if (isBuiltinErrorClass(ctor, err)) return `builtins.${excTypeOf(err)}`;
  }
  return `cliffracer.remote.${excTypeOf(err)}`;
}

/** Nameko's `safe_for_serialization`: strings kept, dicts/lists recursed, everything else `str()`. */
export function safeForSerialization(value: unknown): unknown {
  return makeSafe(value, 0);
}

function makeSafe(value: unknown, depth: number): unknown {
  if (typeof value === "string") return value;
  if (value === null || typeof value !== "object") return safeStr(value);
  if (depth > 100) return UNREADABLE;
  const next = depth + 1;
  if (Array.isArray(value)) return value.map((v) => makeSafe(v, next));
  if (value instanceof Uint8Array || value instanceof Set) return Array.from(value, (v) => makeSafe(v, next));
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(makeSafe(k, next))] = makeSafe(v, next);
    return out;
  }
  // dicts are recursed; any other object (a date, an error, a class instance) is its str()
  if (!isPlainObject(value)) return safeStr(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = makeSafe(v, next);
  return out;
}

function safeStr(value: unknown): string {
  return attempt(() => pyStr(value)) ?? UNREADABLE;
}

/**
 * Nameko's error object for anything thrown (docs/nameko-wire.md, Error object). A thrown
 * non-Error value is reported as Python's `Exception` with that value as its one argument. An
 * error whose message cannot be read (a throwing getter) keeps its type, with Nameko's
 * `[__unicode__ failed]` as its value.
 */
export function serializeError(err: unknown): SerializedError {
  if (!isError(err)) {
    return {
      exc_type: "Exception",
      exc_path: "builtins.Exception",
      exc_args: [makeSafe(err, 0)],
      value: safeStr(err),
    };
  }
  const message = attempt(() => {
    const m: unknown = err.message;
    return typeof m === "string" ? m : pyStr(m);
  });
  const own = attempt(() => (err as { excArgs?: unknown }).excArgs);
  const args = Array.isArray(own) ? own : message ? [message] : [];
  return {
    exc_type: excTypeOf(err),
    exc_path: excPathOf(err),
    exc_args: args.map((a) => makeSafe(a, 0)),
    value: message ?? UNREADABLE,
  };
}

/**
 * The error a Nameko client would raise for an error object (docs/nameko-wire.md, Error deserialisation): the
 * registered class built from `exc_args`, else RemoteError. Missing keys read as Python's None.
 */
export function deserializeError(data: SerializedError): Error {
  const e = (data ?? {}) as Partial<Record<keyof SerializedError, unknown>>;
  const cls = typeof e.exc_path === "string" ? registry.get(e.exc_path) : undefined;
  if (cls) {
    const args = Array.isArray(e.exc_args) ? e.exc_args : [];
    return new cls(...args);
  }
  return new RemoteError(noneOr(e.exc_type), noneOr(e.value));
}

/**
 * An error's message, or a thrown non-Error value as text: the one way every layer puts a
 * caught value into a log field or another error's message. Never throws itself.
 */
export function describeError(err: unknown): string {
  if (isError(err)) {
    const message = attempt(() => String(err.message));
    return message ?? `${excTypeOf(err)} (its message cannot be read)`;
  }
  try {
    return String(err);
  } catch {
    // An object whose toString throws or that has none (Object.create(null)).
    return Object.prototype.toString.call(err);
  }
}

function noneOr(v: unknown): string {
  return v === undefined || v === null ? "None" : pyStr(v);
}
