// Werkzeug URL rules as Nameko's @http declares them (docs/nameko-wire.md, HTTP), matched the way
// werkzeug 1.0's Map matches: rules are tried in werkzeug's order (static before dynamic, longer
// before shorter), a converter that rejects a value means "no match" (so `/int/<int:n>` with `x` is
// 404), and a path that matches only under other verbs is 405. Matching is our own rather than
// fastify's router because services add and remove rules while the shared server is listening, which
// fastify forbids, and because werkzeug's converters (`<path:p>` mid-rule, `int(min=..)`) have no
// fastify equivalent.
import { ConfigurationError } from "../../compat";

/** A path value after conversion: `int` yields a number (a bigint past 2^53), the others a string. */
export type PathValue = string | number | bigint;

/** One `<converter(args):name>` of a rule. */
export interface RuleVariable {
  name: string;
  converter: string;
}

interface Converter {
  regex: string;
  /** Werkzeug's weight: lower sorts first among rules of the same shape. */
  weight: number;
  /** The Python value, or undefined to reject the match (werkzeug's ValidationError). */
  toValue(text: string): PathValue | undefined;
}

type ConverterArgs = { positional: string[]; named: Record<string, string> };

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

function numberArg(args: ConverterArgs, key: string): number | undefined {
  const v = args.named[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigurationError(`converter argument ${key} must be a number, got ${v}`);
  return n;
}

function numeric(args: ConverterArgs, float: boolean): Converter {
  const digits = numberArg(args, "fixed_digits") ?? 0;
  const min = numberArg(args, "min");
  const max = numberArg(args, "max");
  const sign = args.named.signed === "True" ? "-?" : "";
  const body = float ? "\\d+\\.\\d+" : digits > 0 ? `\\d{${digits}}` : "\\d+";
  return {
    regex: sign + body,
    weight: 50,
    toValue(text) {
      const n = float ? Number(text) : Number.parseInt(text, 10);
      if ((min !== undefined && n < min) || (max !== undefined && n > max)) return undefined;
      if (!float && !Number.isSafeInteger(n)) return BigInt(text);
      return n;
    },
  };
}

/** Werkzeug's default converters (werkzeug.routing DEFAULT_CONVERTERS). */
const CONVERTERS: Record<string, (args: ConverterArgs) => Converter> = {
  default: (a) => CONVERTERS.string(a),
  string(args) {
    const length = numberArg(args, "length");
    const min = numberArg(args, "minlength") ?? 1;
    const max = numberArg(args, "maxlength");
    const count = length !== undefined ? `{${length}}` : `{${min},${max ?? ""}}`;
    return { regex: `[^/]${count}`, weight: 100, toValue: (t) => t };
  },
  path: () => ({ regex: "[^/].*?", weight: 200, toValue: (t) => t }),
  int: (args) => numeric(args, false),
  float: (args) => numeric(args, true),
  any: (args) => ({ regex: `(?:${args.positional.map(escapeRegex).join("|")})`, weight: 100, toValue: (t) => t }),
  uuid: () => ({
    regex: "[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}",
    weight: 100,
    toValue: (t) => t,
  }),
};

/** `a, b, key=value, key='quoted'` as werkzeug's parse_converter_args reads them. */
function parseConverterArgs(text: string | undefined): ConverterArgs {
  const args: ConverterArgs = { positional: [], named: {} };
  if (!text) return args;
  for (const raw of text.split(",")) {
    const part = raw.trim();
    if (part === "") continue;
    const eq = part.indexOf("=");
    const unquote = (s: string) => s.trim().replace(/^(['"])(.*)\1$/, "$2");
    if (eq === -1) args.positional.push(unquote(part));
    else args.named[part.slice(0, eq).trim()] = unquote(part.slice(eq + 1));
  }
  return args;
}

const VARIABLE = /<(?:([a-zA-Z_][a-zA-Z0-9_]*)(?:\((.*?)\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>/g;

/** A compiled werkzeug rule: its regex, its variables, and werkzeug's sort key. */
export class UrlRule {
  readonly variables: readonly RuleVariable[];
  /** Werkzeug's `match_compare_key`: rules without variables first, then more parts, then weights. */
  readonly sortKey: readonly number[];
  private readonly regex: RegExp;
  private readonly converters: readonly Converter[];

  constructor(readonly rule: string) {
    if (!rule.startsWith("/")) throw new ConfigurationError(`URL rule ${JSON.stringify(rule)} must start with a slash`);
    const variables: RuleVariable[] = [];
    const converters: Converter[] = [];
    const weights: number[] = [];
    let regex = "";
    let last = 0;
    const addStatic = (text: string) => {
      regex += escapeRegex(text);
      for (const part of text.split("/")) if (part) weights.push(0, -part.length);
    };
    for (const m of rule.matchAll(VARIABLE)) {
      addStatic(rule.slice(last, m.index));
      last = m.index + m[0].length;
      const [, kind = "default", argText, name] = m;
      const make = CONVERTERS[kind];
      if (!make) throw new ConfigurationError(`URL rule ${rule}: unknown converter ${kind}`);
      if (variables.some((v) => v.name === name))
        throw new ConfigurationError(`URL rule ${rule}: variable ${name} appears twice`);
      const converter = make(parseConverterArgs(argText));
      variables.push({ name, converter: kind === "default" ? "string" : kind });
      converters.push(converter);
      weights.push(1, converter.weight);
      regex += `(${converter.regex})`;
    }
    const rest = rule.slice(last);
    if (/[<>]/.test(rest)) throw new ConfigurationError(`URL rule ${rule}: malformed variable`);
    addStatic(rest);
    this.variables = variables;
    this.converters = converters;
    this.regex = new RegExp(`^${regex}$`, "u");
    this.sortKey = [variables.length > 0 ? 1 : 0, -weights.length / 2, ...weights];
  }

  /** Path values by variable name, or undefined when the path does not match or a converter rejects it. */
  match(path: string): Record<string, PathValue> | undefined {
    const m = this.regex.exec(path);
    if (!m) return undefined;
    const values: Record<string, PathValue> = {};
    for (let i = 0; i < this.converters.length; i++) {
      const value = this.converters[i].toValue(m[i + 1]);
      if (value === undefined) return undefined;
      values[this.variables[i].name] = value;
    }
    return values;
  }
}

/** Werkzeug's rule order (ascending `match_compare_key`). */
export function compareRules(a: UrlRule, b: UrlRule): number {
  const n = Math.min(a.sortKey.length, b.sortKey.length);
  for (let i = 0; i < n; i++) if (a.sortKey[i] !== b.sortKey[i]) return a.sortKey[i] - b.sortKey[i];
  return a.sortKey.length - b.sortKey.length;
}

/** `"GET"` or `"GET,POST"` as upper-case verbs; HEAD joins GET as werkzeug adds it. */
export function parseMethods(spec: string): string[] {
  const verbs = spec
    .split(",")
    .map((m) => m.trim().toUpperCase())
    .filter((m) => m !== "");
  if (verbs.length === 0 || verbs.some((m) => !/^[A-Z]+$/.test(m))) {
    throw new ConfigurationError(
      `HTTP method must be a verb or a comma-separated list of verbs, got ${JSON.stringify(spec)}`,
    );
  }
  if (verbs.includes("GET") && !verbs.includes("HEAD")) verbs.push("HEAD");
  return [...new Set(verbs)];
}

/** What a request resolves to. */
export type RouteMatch<T> =
  | { kind: "found"; target: T; values: Record<string, PathValue> }
  | { kind: "redirect"; path: string }
  | { kind: "not-allowed"; allowed: string[] }
  | { kind: "not-found" };

interface Entry<T> {
  rule: UrlRule;
  methods: ReadonlySet<string>;
  target: T;
}

/** The rules of every started @http entrypoint of the process (werkzeug's Map). */
export class RuleMap<T> {
  private entries: Entry<T>[] = [];

  /** Add a rule; a rule already routed for one of the verbs is refused, since werkzeug would shadow it silently. */
  add(rule: UrlRule, methods: readonly string[], target: T): void {
    const clash = this.entries.find((e) => e.rule.rule === rule.rule && methods.some((m) => e.methods.has(m)));
    if (clash)
      throw new ConfigurationError(`URL rule ${rule.rule} is already routed for ${[...clash.methods].join(",")}`);
    // A stable sort keeps registration order among equal keys, as werkzeug does.
    this.entries = [...this.entries, { rule, methods: new Set(methods), target }].sort((a, b) =>
      compareRules(a.rule, b.rule),
    );
  }

  /** Remove every rule of a target. */
  remove(target: T): void {
    this.entries = this.entries.filter((e) => e.target !== target);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Resolve a request path (percent-decoded) and verb. */
  match(method: string, path: string): RouteMatch<T> {
    const allowed = new Set<string>();
    for (const e of this.entries) {
      const values = e.rule.match(path);
      if (values === undefined) continue;
      if (!e.methods.has(method)) {
        for (const m of e.methods) allowed.add(m);
        continue;
      }
      return { kind: "found", target: e.target, values };
    }
    if (allowed.size > 0) return { kind: "not-allowed", allowed: [...allowed].sort() };
    // Werkzeug's strict slashes: `/dir/` is the canonical form of `/dir`.
    if (
      !path.endsWith("/") &&
      this.entries.some((e) => e.rule.rule.endsWith("/") && e.rule.match(`${path}/`) !== undefined)
    ) {
      return { kind: "redirect", path: `${path}/` };
    }
    return { kind: "not-found" };
  }
}
