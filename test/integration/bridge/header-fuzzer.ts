// A small deterministic fuzzer of NATS header values for calls that cross the bridge to AMQP:
// values AMQP or py-amqp cannot carry (each must be refused on its own) and values of every JSON
// type that must arrive intact. Same seed, same sequence, so a failure can be replayed.

/** mulberry32: a tiny seeded PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The kinds of bad header the fuzzer makes. */
export type BadKind =
  "non_finite" | "big_integer" | "deep_nesting" | "long_text" | "long_key" | "lone_surrogate" | "table_too_large";

/** NATS headers of one bad request, and the prefix of the header key its refusal must name. */
export interface BadRequest {
  kind: BadKind;
  headers: Array<[string, string]>;
  /** The refusal names a header starting with this (the exact key for all kinds but table_too_large). */
  names: string;
}

/** Kinds in rotation; the two that need over 64 KiB of headers each come up least. */
const KINDS: BadKind[] = [
  "non_finite",
  "big_integer",
  "deep_nesting",
  "lone_surrogate",
  "long_key",
  "non_finite",
  "big_integer",
  "deep_nesting",
  "lone_surrogate",
  "long_key",
  "long_text",
  "table_too_large",
];

const NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "[1, NaN]", '{"x": -Infinity}', "[[1e309]]"];
const LONE_SURROGATES = ['"abc\\ud800"', '["ok", "\\udfff"]', '{"\\udc80key": 1}', '"\\udbff tail"'];
/** Headers longer than one AMQP field table may be (64 KiB). */
const OVER_TABLE = 65_537;
const INT64_LIMIT = 2n ** 63n;

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}

function int(rand: () => number, min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1));
}

function letters(rand: () => number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + int(rand, 0, 25));
  return s;
}

/** JSON text nested `depth` deep, lists or objects (what a buggy or hostile caller may send). */
function nestedText(depth: number, objects: boolean): string {
  return objects ? '{"a": '.repeat(depth) + "1" + "}".repeat(depth) : "[".repeat(depth) + "1" + "]".repeat(depth);
}

/** An integer beyond signed 64 bits, as JSON digits. */
function bigIntegerText(rand: () => number): string {
  const extra = BigInt(Math.floor(rand() * 1e15)) * 10n ** BigInt(int(rand, 0, 20));
  const n = INT64_LIMIT + extra;
  const signed = rand() < 0.5 ? n.toString() : (-n - 1n).toString();
  return rand() < 0.3 ? `[0, ${signed}]` : signed;
}

/** Bad request number `i`: one (or, for table_too_large, several) headers AMQP cannot carry. */
export function badRequest(rand: () => number, i: number): BadRequest {
  const kind = KINDS[i % KINDS.length];
  const key = `nameko.bad${i}`;
  const good: Array<[string, string]> = [["nameko.user_id", `u${i}`]];
  switch (kind) {
    case "non_finite":
      return { kind, headers: [...good, [key, pick(rand, NON_FINITE)]], names: key };
    case "big_integer":
      return { kind, headers: [...good, [key, bigIntegerText(rand)]], names: key };
    case "deep_nesting": {
      // Mostly just past the limit, sometimes far beyond (50,000 levels as in the issue).
      const depth = rand() < 0.05 ? 50_000 : int(rand, 101, 3_000);
      return { kind, headers: [...good, [key, nestedText(depth, rand() < 0.5)]], names: key };
    }
    case "long_text":
      return {
        kind,
        headers: [...good, [key, letters(rand, 1) + "x".repeat(OVER_TABLE + int(rand, 0, 5_000))]],
        names: key,
      };
    case "long_key": {
      // A header key, or a key inside a JSON object, over AMQP's 255-byte short string.
      if (rand() < 0.5) {
        const longKey = `nameko.k${"k".repeat(int(rand, 249, 400))}${i}`;
        return { kind, headers: [...good, [longKey, "v"]], names: longKey };
      }
      return { kind, headers: [...good, [key, `{"${"é".repeat(int(rand, 128, 300))}": 1}`]], names: key };
    }
    case "lone_surrogate":
      return { kind, headers: [...good, [key, pick(rand, LONE_SURROGATES)]], names: key };
    case "table_too_large": {
      // Each header fits; together they are more than one header table may hold.
      const parts: Array<[string, string]> = [];
      for (let j = 0; j < 9; j++) parts.push([`${key}_${j}`, "z".repeat(8_000)]);
      return { kind, headers: [...good, ...parts], names: `${key}_` };
    }
  }
}

/** A JSON value of any type that AMQP carries and JSON reads back as equal (integers within 2^53). */
export function goodValue(rand: () => number, depth = 0): unknown {
  const choice = int(rand, 0, depth >= 4 ? 5 : 7);
  switch (choice) {
    case 0:
      return pick(rand, ["", "plain", "5", "true", "null", " edge ", "tab\there", "é ü 漢字 \ud83d\ude00", 'quote"d']);
    case 1:
      return int(rand, -2_147_483_648, 2_147_483_647);
    case 2:
      return (rand() < 0.5 ? -1 : 1) * Math.floor(rand() * Number.MAX_SAFE_INTEGER);
    case 3:
      // JavaScript writes integral floats below 1e21 as digits, which JSON (and Python) read as an
      // integer, one beyond 64 bits past 2^63: such text is a bad header, so floats skip that range.
      return (rand() - 0.5) * 10 ** (rand() < 0.8 ? int(rand, -300, 15) : int(rand, 22, 300));
    case 4:
      return rand() < 0.5;
    case 5:
      return null;
    case 6:
      return Array.from({ length: int(rand, 0, 4) }, () => goodValue(rand, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let j = int(rand, 0, 4); j > 0; j--) out[letters(rand, int(rand, 1, 8))] = goodValue(rand, depth + 1);
      return out;
    }
  }
}
