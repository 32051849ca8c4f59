// Python literals as TypeScript literals, for parameter defaults and decorator options. Anything that
// is not a literal (a name, a call, an f-string, bytes, a set) has no translation and is flagged.
import { childrenOf, type PyNode, type PythonSource } from "./python-source";

const PUNCTUATION = new Set(["(", ")", "[", "]", "{", "}", ",", ":"]);

/** The value nodes of a list, tuple or dict display, punctuation left out. */
export function elementsOf(node: PyNode): PyNode[] {
  return childrenOf(node).filter((c) => !PUNCTUATION.has(c.name));
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", a: "\x07", b: "\b", f: "\f", v: "\v", "\n": "" };

/** The value of a Python string literal (str only: bytes and f-strings have no JSON value). */
export function pythonString(text: string): string | undefined {
  const m = /^([rRuU]?)('''|"""|'|")([\s\S]*)\2$/.exec(text);
  if (!m) return undefined;
  if (m[1].toLowerCase() === "r") return m[3];
  let unsupported = false;
  const value = m[3].replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|N\{[^}]*\}|[\s\S])/g,
    (whole, esc: string) => {
      if (/^[xuU]/.test(esc) && esc.length > 1) return String.fromCodePoint(parseInt(esc.slice(1), 16));
      if (/^[0-7]+$/.test(esc)) return String.fromCodePoint(parseInt(esc, 8));
      if (esc.startsWith("N{")) unsupported = true;
      return ESCAPES[esc] ?? (esc === "\\" || esc === "'" || esc === '"' ? esc : whole);
    },
  );
  return unsupported ? undefined : value;
}

/** A Python number as TypeScript; undefined for complex numbers. */
function pythonNumber(text: string): string | undefined {
  if (/[jJ]$/.test(text)) return undefined;
  return text.replace(/_/g, "");
}

/** The TypeScript literal for a Python literal expression, or undefined when it is not one. */
export function literalToTs(source: PythonSource, node: PyNode): string | undefined {
  const text = source.textOf(node);
  switch (node.name) {
    case "Boolean":
      return text === "True" ? "true" : "false";
    case "None":
      return "null";
    case "Number":
      return pythonNumber(text);
    case "String": {
      const s = pythonString(text);
      return s === undefined ? undefined : JSON.stringify(s);
    }
    case "ContinuedString": {
      const parts = childrenOf(node).map((c) => (c.name === "String" ? pythonString(source.textOf(c)) : undefined));
      return parts.every((p) => p !== undefined) ? JSON.stringify(parts.join("")) : undefined;
    }
    case "UnaryExpression": {
      const [op, operand] = childrenOf(node);
      if (!operand || operand.name !== "Number" || (source.textOf(op) !== "-" && source.textOf(op) !== "+"))
        return undefined;
      const n = pythonNumber(source.textOf(operand));
      return n === undefined ? undefined : `${source.textOf(op) === "-" ? "-" : ""}${n}`;
    }
    case "ParenthesizedExpression": {
      const inner = elementsOf(node);
      return inner.length === 1 ? literalToTs(source, inner[0]) : undefined;
    }
    case "ArrayExpression":
    case "TupleExpression": {
      const items = elementsOf(node).map((c) => literalToTs(source, c));
      return items.every((i) => i !== undefined) ? `[${items.join(", ")}]` : undefined;
    }
    case "DictionaryExpression": {
      const items = elementsOf(node);
      if (items.length % 2 !== 0) return undefined;
      const pairs: string[] = [];
      for (let i = 0; i < items.length; i += 2) {
        // JSON keys are strings: only string keys keep their meaning.
        const key = items[i].name === "String" ? pythonString(source.textOf(items[i])) : undefined;
        const value = literalToTs(source, items[i + 1]);
        if (key === undefined || value === undefined) return undefined;
        pairs.push(`${JSON.stringify(key)}: ${value}`);
      }
      return pairs.length ? `{ ${pairs.join(", ")} }` : "{}";
    }
    default:
      return undefined;
  }
}
