// Python type hints as TypeScript types (docs/porting.md, Type hints). What has no JSON counterpart,
// or names a class the module does not describe, becomes `unknown`.
import { elementsOf, literalToTs, pythonString } from "./literals";
import { childrenOf, type PyNode, type PythonSource } from "./python-source";

const SIMPLE: Record<string, string> = {
  int: "number",
  float: "number",
  str: "string",
  bool: "boolean",
  None: "null",
  NoneType: "null",
  Any: "unknown",
  object: "unknown",
  list: "unknown[]",
  List: "unknown[]",
  tuple: "unknown[]",
  Tuple: "unknown[]",
  Sequence: "unknown[]",
  dict: "Record<string, unknown>",
  Dict: "Record<string, unknown>",
  Mapping: "Record<string, unknown>",
};
const LISTS = new Set([
  "list",
  "List",
  "Sequence",
  "MutableSequence",
  "Iterable",
  "Collection",
  "set",
  "Set",
  "frozenset",
  "FrozenSet",
]);
const DICTS = new Set(["dict", "Dict", "Mapping", "MutableMapping"]);

/** Looks up the interfaces the module itself declares (dataclasses, schemas), by class name. */
export type ShapeLookup = (name: string) => string | undefined;

/** The last name of `x`, `typing.x` or `t.x`. */
function bareName(source: PythonSource, node: PyNode): string | undefined {
  if (node.name === "VariableName") return source.textOf(node);
  if (node.name === "None") return "None";
  if (node.name === "MemberExpression") {
    const kids = childrenOf(node);
    const last = kids[kids.length - 1];
    if (last?.name === "PropertyName") return source.textOf(last);
  }
  return undefined;
}

function union(types: string[]): string {
  const unique = [...new Set(types)];
  if (unique.includes("unknown")) return "unknown";
  return unique.join(" | ");
}

function arrayOf(t: string): string {
  return /[ |&]/.test(t) ? `Array<${t}>` : `${t}[]`;
}

/** The TypeScript type of a Python annotation expression. */
export function hintToTs(source: PythonSource, node: PyNode | null | undefined, shapes: ShapeLookup): string {
  if (!node) return "unknown";
  if (node.name === "String") {
    // A forward reference: "Foo" is the class Foo.
    const inner = pythonString(source.textOf(node));
    return inner !== undefined && /^[A-Za-z_]\w*$/.test(inner)
      ? (SIMPLE[inner] ?? shapes(inner) ?? "unknown")
      : "unknown";
  }
  if (node.name === "BinaryExpression") {
    const [left, op, right] = childrenOf(node);
    if (op && source.textOf(op) === "|" && right)
      return union([hintToTs(source, left, shapes), hintToTs(source, right, shapes)]);
    return "unknown";
  }
  const kids = childrenOf(node);
  const subscripted = node.name === "MemberExpression" && kids.some((k) => k.name === "[");
  if (!subscripted) {
    const name = bareName(source, node);
    return name === undefined ? "unknown" : (SIMPLE[name] ?? shapes(name) ?? "unknown");
  }
  const head = bareName(source, kids[0]);
  const args = elementsOf(node).slice(1);
  const arg = (i: number): string => hintToTs(source, args[i], shapes);
  switch (true) {
    case head === "Optional":
      return union([arg(0), "null"]);
    case head === "Union":
      return union(args.map((_, i) => arg(i)));
    case head === "Annotated":
      return arg(0);
    case head === "Literal": {
      const values = args.map((a) => literalToTs(source, a));
      return values.every((v) => v !== undefined) ? union(values) : "unknown";
    }
    case head === "tuple" || head === "Tuple":
      if (args.length === 2 && args[1].name === "Ellipsis") return arrayOf(arg(0));
      return `[${args.map((_, i) => arg(i)).join(", ")}]`;
    case head !== undefined && LISTS.has(head):
      return arrayOf(arg(0));
    case head !== undefined && DICTS.has(head):
      // JSON object keys are strings, whatever the Python key type.
      return `Record<string, ${args.length === 2 ? arg(1) : "unknown"}>`;
    default:
      return "unknown";
  }
}
