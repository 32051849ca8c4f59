/**
 * Which differences a replay does not count (docs/cassettes.md, Ignoring noise): `--ignore`
 * patterns on JSON paths, optionally for one `service.method`, and the paths that already differed
 * between two recordings of the same request (Diffy's primary/secondary idea).
 */
import { InvalidIgnorePattern } from "./errors";

/** One step of a path: a key, an index, or (in a pattern) `*`, `[*]`, `**`. */
type Step = { key: string } | { index: number } | { any: "key" | "index" | "steps" };

/** A parsed `--ignore` pattern. */
export interface IgnorePattern {
  /** The text given. */
  source: string;
  /** `service.method` it applies to, or undefined for every call. */
  scope?: string;
  steps: Step[];
}

const SCOPE = /^([^.:\s[\]"]+\.[^.:\s[\]"]+):(.*)$/s;

/** A path (or pattern, with `wildcards`) into its steps; throws a message for text that is not one. */
function parseSteps(text: string, wildcards: boolean): Step[] {
  const steps: Step[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new InvalidIgnorePattern(`${JSON.stringify(text)}: ${why} at character ${i + 1}`);
  };
  while (i < text.length) {
    if (text[i] === "[") {
      const close = text.indexOf("]", i);
      if (close < 0) fail("unclosed [");
      const inner = text.slice(i + 1, close);
      if (wildcards && inner === "*") steps.push({ any: "index" });
      else if (/^\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else if (inner.startsWith('"')) {
        // A quoted key may hold `]`: read the JSON string itself.
        const end = findStringEnd(text, i + 1);
        if (end < 0 || text[end + 1] !== "]") fail("bad quoted key");
        steps.push({ key: JSON.parse(text.slice(i + 1, end + 1)) as string });
        i = end + 2;
        continue;
      } else fail('expected [<index>], [*] or ["key"]');
      i = close + 1;
      continue;
    }
    if (text[i] === ".") {
      if (steps.length === 0 || i + 1 >= text.length) fail("empty step");
      i++;
    }
    let j = i;
    while (j < text.length && text[j] !== "." && text[j] !== "[") j++;
    const word = text.slice(i, j);
    if (word === "") fail("empty step");
    if (wildcards && word === "**") steps.push({ any: "steps" });
    else if (wildcards && word === "*") steps.push({ any: "key" });
    else steps.push({ key: word });
    i = j;
  }
  if (steps.length === 0) throw new InvalidIgnorePattern(`${JSON.stringify(text)}: empty pattern`);
  return steps;
}

function findStringEnd(text: string, start: number): number {
  for (let k = start + 1; k < text.length; k++) {
    if (text[k] === "\\") k++;
    else if (text[k] === '"') return k;
  }
  return -1;
}

/** Reads an `--ignore` option: `[service.method:]path`. Throws {@link InvalidIgnorePattern}. */
export function parseIgnorePattern(source: string): IgnorePattern {
  const scoped = SCOPE.exec(source);
  const path = scoped ? (scoped[2] ?? "") : source;
  return { source, scope: scoped?.[1], steps: parseSteps(path.trim(), true) };
}

function stepsMatch(pattern: readonly Step[], path: readonly Step[]): boolean {
  if (pattern.length === 0) return true; // a pattern covers everything below what it names
  const [p, ...rest] = pattern as [Step, ...Step[]];
  if ("any" in p && p.any === "steps") {
    for (let k = 0; k <= path.length; k++) if (stepsMatch(rest, path.slice(k))) return true;
    return false;
  }
  const s = path[0];
  if (s === undefined) return false;
  const ok =
    "any" in p
      ? p.any === "key"
        ? "key" in s || "index" in s
        : "index" in s
      : "key" in p
        ? "key" in s && s.key === p.key
        : "index" in s && s.index === p.index;
  return ok && stepsMatch(rest, path.slice(1));
}

/**
 * What a replay leaves out of its verdict for one call: the `--ignore` patterns that apply to its
 * `service.method`, and the noisy paths of its request.
 */
export class IgnoreRules {
  private readonly patterns: IgnorePattern[];
  private readonly parsed = new Map<string, Step[]>();

  constructor(patterns: readonly string[] = []) {
    this.patterns = patterns.map(parseIgnorePattern);
  }

  private steps(path: string): Step[] {
    let steps = this.parsed.get(path);
    if (steps === undefined) this.parsed.set(path, (steps = path === "" ? [] : parseSteps(path, false)));
    return steps;
  }

  /** True when a difference at `path` of a call to `target` (`service.method`) is ignored. */
  ignores(target: string, path: string, noise: ReadonlySet<string> = new Set()): boolean {
    const steps = this.steps(path);
    for (const n of noise) if (stepsMatch(this.steps(n), steps)) return true;
    return this.patterns.some((p) => (p.scope === undefined || p.scope === target) && stepsMatch(p.steps, steps));
  }
}
