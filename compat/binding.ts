// Binding Nameko's `args`/`kwargs` to a TypeScript method as Python binds them to
// `def method(self, ...)` (docs/nameko-wire.md, Argument binding). Nameko checks with `inspect.getcallargs`,
// so the messages below are that function's (CPython 3.11), counting `self`.
import "reflect-metadata";
import type * as ClassTransformerModule from "class-transformer";
import type * as ClassValidatorModule from "class-validator";
import type { ValidationError } from "class-validator";
import { requestArgs, requestKwargs } from "./codec";
import { ConfigurationError, IncorrectSignature, ValidationFailed } from "./errors";
import { pyReprString as pyQuote, pyTypeName } from "./python";

/** One named parameter of a method. */
export interface ParamSpec {
  name: string;
  hasDefault: boolean;
  /** Python's keyword-only parameter: bound only from `kwargs`. JavaScript has none, so only an override sets it. */
  keywordOnly: boolean;
}

/**
 * A method's Python-style signature. `params` are the JavaScript parameters in order; with
 * `varKwargs` the method takes one more parameter, an object of the remaining keyword
 * arguments; with `varArgs` surplus positional arguments follow last (a rest parameter).
 */
export interface MethodSignature {
  name: string;
  params: ParamSpec[];
  varArgs: boolean;
  varKwargs: boolean;
}

/** Corrections to a parsed signature (e.g. from `@rpc({ signature })`): what JavaScript cannot say. */
export interface SignatureOverride {
  params?: ParamSpec[];
  varArgs?: boolean;
  varKwargs?: boolean;
  /** Names of parameters that Python callers may pass by keyword only. */
  keywordOnly?: readonly string[];
}

// ---------------------------------------------------------------- reading the source

/** Characters after which a `/` starts a regular expression rather than a division. */
const BEFORE_REGEX = new Set("(,=:[!&|?{};+-*%<>~^");

/** Index just past the string, template, comment or regex starting at `i`, or `i` if none starts there. */
function skipNonCode(src: string, i: number, prev: string): number {
  const c = src[i];
  if (c === '"' || c === "'") {
    let p = i + 1;
    while (p < src.length && src[p] !== c) p += src[p] === "\\" ? 2 : 1;
    return p + 1;
  }
  if (c === "`") return skipTemplate(src, i);
  if (c === "/") {
    const n = src[i + 1];
    if (n === "/") {
      const end = src.indexOf("\n", i);
      return end < 0 ? src.length : end + 1;
    }
    if (n === "*") {
      const end = src.indexOf("*/", i + 2);
      return end < 0 ? src.length : end + 2;
    }
    if (prev === "" || BEFORE_REGEX.has(prev)) {
      let p = i + 1;
      let inClass = false;
      while (p < src.length) {
        const ch = src[p];
        if (ch === "\\") p++;
        else if (ch === "[") inClass = true;
        else if (ch === "]") inClass = false;
        else if (ch === "/" && !inClass) break;
        p++;
      }
      p++;
      while (p < src.length && /[a-z]/i.test(src[p])) p++;
      return p;
    }
  }
  return i;
}

function skipTemplate(src: string, i: number): number {
  let p = i + 1;
  while (p < src.length) {
    const ch = src[p];
    if (ch === "\\") p += 2;
    else if (ch === "`") return p + 1;
    else if (ch === "$" && src[p + 1] === "{") p = skipBalanced(src, p + 1) + 1;
    else p++;
  }
  return p;
}

/** Index of the bracket closing the one at `open`, skipping strings, templates, comments and regexes. */
function skipBalanced(src: string, open: number): number {
  let depth = 0;
  let prev = "";
  let p = open;
  while (p < src.length) {
    const after = skipNonCode(src, p, prev);
    if (after !== p) {
      p = after;
      continue;
    }
    const ch = src[p];
    if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if (ch === ")" || ch === "]" || ch === "}") {
      depth--;
      if (depth === 0) return p;
    }
    if (!/\s/.test(ch)) prev = ch;
    p++;
  }
  return src.length;
}

/** The raw parameter texts of a function's source, comments removed. */
function parameterTexts(src: string): string[] {
  let p = 0;
  let prev = "";
  while (p < src.length) {
    const after = skipNonCode(src, p, prev);
    if (after !== p) {
      // a string here is a quoted method name: `"my-name"(a) {}`
      p = after;
      prev = "x";
      continue;
    }
    const ch = src[p];
    if (ch === "(") break;
    if (ch === "[") {
      p = skipBalanced(src, p) + 1;
      prev = "]";
      continue;
    }
    if (ch === "=" && src[p + 1] === ">") {
      // `x => ...`: a single parameter without parentheses
      const head = src
        .slice(0, p)
        .trim()
        .replace(/^async\s+/, "");
      return [head];
    }
    if (!/\s/.test(ch)) prev = ch;
    p++;
  }
  if (p >= src.length) return [];
  const close = skipBalanced(src, p);
  const params: string[] = [];
  let current = "";
  let depth = 0;
  prev = "(";
  for (let i = p + 1; i < close;) {
    const after = skipNonCode(src, i, prev);
    if (after !== i) {
      const piece = src.slice(i, after);
      if (!piece.startsWith("//") && !piece.startsWith("/*")) {
        current += piece;
        prev = "x";
      } else current += " ";
      i = after;
      continue;
    }
    const ch = src[i];
    if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if (ch === ")" || ch === "]" || ch === "}") depth--;
    if (ch === "," && depth === 0) {
      params.push(current);
      current = "";
    } else current += ch;
    if (!/\s/.test(ch)) prev = ch;
    i++;
  }
  params.push(current);
  return params.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Whether a destructuring pattern or identifier parameter text carries a default (`= ...` at top level). */
function hasTopLevelDefault(text: string): boolean {
  let depth = 0;
  let prev = "";
  for (let i = 0; i < text.length;) {
    const after = skipNonCode(text, i, prev);
    if (after !== i) {
      i = after;
      prev = "x";
      continue;
    }
    const ch = text[i];
    if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if (ch === ")" || ch === "]" || ch === "}") depth--;
    else if (ch === "=" && depth === 0 && text[i + 1] !== ">" && text[i + 1] !== "=") return true;
    if (!/\s/.test(ch)) prev = ch;
    i++;
  }
  return false;
}

/** Any function or method, whatever it takes; what {@link signatureOf} reads. */
export type AnyFunction = (...args: never[]) => unknown;

/** Narrows an unknown value (a decorated property, say) to a function. */
export function isFunction(value: unknown): value is AnyFunction {
  return typeof value === "function";
}

/**
 * Read a method's signature from its compiled source (ES2022 keeps defaults and rest
 * parameters). A rest parameter is Python's `*args`. An object-destructuring parameter in last
 * position (before any rest) cannot be bound by name: it receives the keyword arguments as one
 * object, like Python's `**kwargs`. Any other destructuring parameter is positional, named by
 * its pattern text in error messages.
 */
export function signatureOf(fn: AnyFunction, name: string, override: SignatureOverride = {}): MethodSignature {
  const texts = parameterTexts(Function.prototype.toString.call(fn));
  const params: ParamSpec[] = [];
  let varArgs = false;
  let varKwargs = false;
  texts.forEach((text, i) => {
    if (text.startsWith("...")) {
      varArgs = true;
      return;
    }
    const isLast = i === texts.length - 1 || (i === texts.length - 2 && texts[i + 1].startsWith("..."));
    if (text.startsWith("{") && isLast) {
      varKwargs = true;
      return;
    }
    const id = /^[^\s=]+/.exec(text);
    const pattern = text.startsWith("{") || text.startsWith("[");
    const paramName = pattern ? text.slice(0, skipBalanced(text, 0) + 1).replace(/\s+/g, " ") : id ? id[0] : text;
    params.push({ name: paramName, hasDefault: hasTopLevelDefault(text), keywordOnly: false });
  });
  const sig: MethodSignature = {
    name,
    params: override.params ? override.params.map((p) => ({ ...p })) : params,
    varArgs: override.varArgs ?? varArgs,
    varKwargs: override.varKwargs ?? varKwargs,
  };
  for (const kw of override.keywordOnly ?? []) {
    const param = sig.params.find((p) => p.name === kw);
    if (!param)
      throw new ConfigurationError(`${name}(): keyword-only parameter '${kw}' is not a parameter of the method`);
    param.keywordOnly = true;
  }
  return sig;
}

// ---------------------------------------------------------------- binding

/** Per-signature data computed once, so that binding a call does little work. */
interface Binder {
  name: string;
  nParams: number;
  /** JavaScript index of each positional (non keyword-only) parameter, in order. */
  positional: number[];
  positionalNames: string[];
  /** Parameter name to JavaScript index; keyword-bindable names only (`self` maps to -1). */
  index: Map<string, number>;
  requiredPositional: string[];
  keywordOnly: string[];
  requiredKeywordOnly: string[];
  defaultCount: number;
  /** Positional parameters are exactly the JavaScript parameters: a call with only args can be returned as is. */
  identity: boolean;
  varArgs: boolean;
  varKwargs: boolean;
}

const binders = new WeakMap<MethodSignature, Binder>();

function binderOf(sig: MethodSignature): Binder {
  let b = binders.get(sig);
  if (b) return b;
  const positional: number[] = [];
  const index = new Map<string, number>([["self", -1]]);
  sig.params.forEach((p, i) => {
    if (!p.keywordOnly) positional.push(i);
    index.set(p.name, i);
  });
  const pos = positional.map((i) => sig.params[i]);
  const kwOnly = sig.params.filter((p) => p.keywordOnly);
  b = {
    name: sig.name,
    nParams: sig.params.length,
    positional,
    positionalNames: pos.map((p) => p.name),
    index,
    requiredPositional: pos.filter((p) => !p.hasDefault).map((p) => p.name),
    keywordOnly: kwOnly.map((p) => p.name),
    requiredKeywordOnly: kwOnly.filter((p) => !p.hasDefault).map((p) => p.name),
    defaultCount: pos.filter((p) => p.hasDefault).length,
    identity: positional.length === sig.params.length,
    varArgs: sig.varArgs,
    varKwargs: sig.varKwargs,
  };
  binders.set(sig, b);
  return b;
}

/** inspect's `_missing_arguments`. */
function missingArguments(name: string, names: string[], positional: boolean): IncorrectSignature {
  const quoted = names.map(pyQuote);
  const n = quoted.length;
  const list =
    n === 1
      ? quoted[0]
      : n === 2
        ? `${quoted[0]} and ${quoted[1]}`
        : `${quoted.slice(0, -2).join(", ")}, ${quoted[n - 2]} and ${quoted[n - 1]}`;
  return new IncorrectSignature(
    `${name}() missing ${n} required ${positional ? "positional" : "keyword-only"} argument${n === 1 ? "" : "s"}: ${list}`,
  );
}

/** inspect's `_too_many` (never reached with `*args`). */
function tooMany(b: Binder, given: number, kwOnlyGiven: number): IncorrectSignature {
  const nArgs = b.positional.length + 1;
  const atLeast = nArgs - b.defaultCount;
  const [sig, plural] = b.defaultCount ? [`from ${atLeast} to ${nArgs}`, true] : [String(nArgs), nArgs !== 1];
  const kwOnlySig = kwOnlyGiven
    ? ` positional argument${given !== 1 ? "s" : ""} (and ${kwOnlyGiven} keyword-only argument${kwOnlyGiven !== 1 ? "s" : ""})`
    : "";
  return new IncorrectSignature(
    `${b.name}() takes ${sig} positional argument${plural ? "s" : ""} but ${given}${kwOnlySig} ${given === 1 && !kwOnlyGiven ? "was" : "were"} given`,
  );
}

/**
 * Bind a request's `args`/`kwargs` like `inspect.getcallargs(method, self, *args, **kwargs)`
 * and return the JavaScript arguments to apply (`undefined` where a default applies; the
 * `args` array itself when it already fits, so callers must not modify the result). Throws
 * IncorrectSignature with Python's message.
 */
export function bindArguments(sig: MethodSignature, args: unknown, kwargs: unknown): unknown[] {
  const pos = requestArgs(args);
  const named = requestKwargs(kwargs);
  const b = binderOf(sig);
  const keys = Object.keys(named);
  const nPositional = b.positional.length;
  if (keys.length === 0 && b.identity && !b.varKwargs && pos.length === nPositional) return pos;

  const out: unknown[] = new Array(b.nParams);
  const bound = new Set<string>(["self"]);
  const n = Math.min(pos.length, nPositional);
  for (let i = 0; i < n; i++) {
    out[b.positional[i]] = pos[i];
    bound.add(b.positionalNames[i]);
  }
  const rest: Record<string, unknown> | undefined = b.varKwargs ? {} : undefined;
  for (const kw of keys) {
    const at = b.index.get(kw);
    if (at === undefined) {
      if (!rest) throw new IncorrectSignature(`${b.name}() got an unexpected keyword argument ${pyQuote(kw)}`);
      rest[kw] = named[kw];
      continue;
    }
    if (bound.has(kw)) throw new IncorrectSignature(`${b.name}() got multiple values for argument ${pyQuote(kw)}`);
    bound.add(kw);
    out[at] = named[kw];
  }
  if (pos.length > nPositional && !b.varArgs) {
    throw tooMany(b, pos.length + 1, b.keywordOnly.filter((k) => bound.has(k)).length);
  }
  if (pos.length < nPositional) {
    const missing = b.requiredPositional.filter((p) => !bound.has(p));
    if (missing.length) throw missingArguments(b.name, missing, true);
  }
  const missingKw = b.requiredKeywordOnly.filter((p) => !bound.has(p));
  if (missingKw.length) throw missingArguments(b.name, missingKw, false);

  if (rest) out.push(rest);
  for (let i = nPositional; i < pos.length; i++) out.push(pos[i]);
  return out;
}

// ---------------------------------------------------------------- DTO parameters

type ClassValidator = typeof ClassValidatorModule;
type ClassTransformer = typeof ClassTransformerModule;
let validatorModules: { validator: ClassValidator; transformer: ClassTransformer } | undefined;

/**
 * class-validator and class-transformer, loaded on first use: they are a fifth of what a
 * `cliffracer call` loads at start, and a process that binds no DTO (a CLI call, a bridge) never
 * needs them. A user's class-validator decorators load the same module, so its metadata is shared.
 */
function validatorLib(): { validator: ClassValidator; transformer: ClassTransformer } {
  return (validatorModules ??= {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    validator: require("class-validator") as ClassValidator,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    transformer: require("class-transformer") as ClassTransformer,
  });
}

/** A class used as a method's single, validated parameter. */
export type DtoClass<T extends object = object> = new (...args: never[]) => T;

const NOT_DTOS = new Set<unknown>([Object, String, Number, Boolean, Array, Map, Set, Date, Promise, Function]);

/**
 * The DTO class of a method whose single parameter is a class carrying class-validator
 * decorators (read from `design:paramtypes`), else undefined.
 */
export function dtoClassOf(prototype: object, methodName: string | symbol): DtoClass | undefined {
  const types: unknown = Reflect.getMetadata("design:paramtypes", prototype, methodName);
  if (!Array.isArray(types) || types.length !== 1) return undefined;
  const t: unknown = types[0];
  if (typeof t !== "function" || NOT_DTOS.has(t)) return undefined;
  const rules = validatorLib().validator.getMetadataStorage().getTargetValidationMetadatas(t, "", true, false);
  return rules.length > 0 ? (t as DtoClass) : undefined;
}

function flattenErrors(
  errors: ValidationError[],
  prefix: string,
  into: Record<string, string[]>,
): Record<string, string[]> {
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) into[path] = Object.values(e.constraints);
    if (e.children && e.children.length) flattenErrors(e.children, path, into);
  }
  return into;
}

/** Whether a value is a JSON object (not an array, not null): what can stand for a DTO's fields. */
function isObjectBody(value: unknown): value is object {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Whether `cls` validates a property called `name`. */
function hasValidatedField(cls: DtoClass, name: string): boolean {
  return validatorLib()
    .validator.getMetadataStorage()
    .getTargetValidationMetadatas(cls, "", true, false)
    .some((rule) => rule.propertyName === name);
}

/**
 * Build and validate a DTO from a request. Three calls bind it (docs/nameko-wire.md, DTO parameters):
 * a single positional object (Python's `create({...})`); kwargs holding only the parameter's own
 * name, `paramName`, with an object value (`create(product={...})`), unless the DTO validates a field
 * of that name; otherwise the kwargs themselves are the fields (`create(name=..., price=...)`). The
 * instance is built with class-transformer and checked with class-validator. A positional call
 * that Python would refuse for `def method(self, product)` gets Python's IncorrectSignature, and a
 * positional value that is not an object one of its own; a validation failure is ValidationFailed
 * with per-field messages (nested fields as dotted paths).
 */
export async function bindDto<T extends object>(
  cls: DtoClass<T>,
  args: unknown,
  kwargs: unknown,
  methodName = "method",
  paramName?: string,
): Promise<T> {
  const pos = requestArgs(args);
  const named = requestKwargs(kwargs);
  const keys = Object.keys(named);
  let plain: unknown = named;
  if (pos.length > 0) {
    // Python's checks for `def method(self, product)`, in getcallargs' order, counting `self`.
    const single = pos[0];
    if (keys.length > 0) {
      const kw = keys[0];
      const problem =
        kw === paramName && !hasValidatedField(cls, kw)
          ? "got multiple values for argument"
          : "got an unexpected keyword argument";
      throw new IncorrectSignature(`${methodName}() ${problem} ${pyQuote(kw)}`);
    }
    if (pos.length > 1)
      throw new IncorrectSignature(`${methodName}() takes 2 positional arguments but ${pos.length + 1} were given`);
    // Python would bind any value; a DTO is built only from an object.
    if (!isObjectBody(single)) {
      const name = paramName === undefined ? "" : ` ${pyQuote(paramName)}`;
      throw new IncorrectSignature(`${methodName}() argument${name} must be a dict, not ${pyTypeName(single)}`);
    }
    plain = single;
  } else if (
    paramName !== undefined &&
    keys.length === 1 &&
    keys[0] === paramName &&
    isObjectBody(named[paramName]) &&
    !hasValidatedField(cls, paramName)
  ) {
    plain = named[paramName];
  }
  const { validator, transformer } = validatorLib();
  const instance = transformer.plainToInstance(cls as unknown as new () => T, plain) as T;
  const errors = await validator.validate(instance, { forbidUnknownValues: false, whitelist: false });
  if (errors.length) throw new ValidationFailed(flattenErrors(errors, "", {}));
  return instance;
}
