// What the readers of one module share: the context, name look-ups and decorators.
import type { ImportTable } from "./imports";
import type { ErrorClassModel, PortIssue } from "./model";
import type { PyNode, PythonSource } from "./python-source";
import type { ShapeLookup } from "./type-hints";

/** What the readers of one module share. */
export interface ReadContext {
  source: PythonSource;
  imports: ImportTable;
  issues: PortIssue[];
  shapes: ShapeLookup;
  errors: Array<ErrorClassModel & { imported: boolean }>;
  modulePath: string;
}

/** Python built-ins Cliffracer has stand-ins for (MIGRATION.md, Error catalogue): imported, not declared. */
export const BUILTIN_ERRORS = new Set([
  "Exception",
  "LookupError",
  "KeyError",
  "IndexError",
  "ValueError",
  "AttributeError",
  "RuntimeError",
  "NotImplementedError",
  "PermissionError",
]);

/** Matches a qualified name against a table, or a bare (unimported) name against the tables' last parts. */
export function lookup<T>(table: Record<string, T>, qualified: string | undefined): T | undefined {
  if (qualified === undefined) return undefined;
  if (qualified in table) return table[qualified];
  if (qualified.includes(".")) return undefined;
  const key = Object.keys(table).find((k) => k.endsWith(`.${qualified}`));
  return key === undefined ? undefined : table[key];
}

/** Decorator name (qualified) and its argument list. */
export function decoratorOf(
  source: PythonSource,
  imports: ImportTable,
  node: PyNode,
): { qualified?: string; text: string; argList: PyNode | null } {
  // A comment after a decorator belongs to its node (`@rpc  # exposed`); it is no part of it.
  const end = node.getChild("Comment")?.from ?? node.to;
  const text = source.text.slice(node.from, end).trim();
  const argList = node.getChild("ArgList");
  const nameText = source.text
    .slice(node.from, argList ? argList.from : end)
    .replace(/^@/, "")
    .replace(/\s+/g, "");
  const nameNode = node.getChild("MemberExpression") ?? node.getChild("VariableName");
  const qualified =
    nameNode && source.textOf(nameNode).replace(/\s+/g, "") === nameText ? imports.qualify(nameNode) : nameText;
  return { qualified, text, argList };
}

/** A name in `expected_exceptions`: a stand-in, a class of the module, or one declared from its import. */
export function errorClassName(ctx: ReadContext, node: PyNode): string | undefined {
  const text = ctx.source.textOf(node).replace(/\s+/g, "");
  const last = text.split(".").pop() ?? text;
  if (ctx.errors.some((e) => e.name === last && !e.imported)) return last;
  if (!ctx.imports.isImported(text.split(".")[0]) && BUILTIN_ERRORS.has(last)) return last;
  const qualified = ctx.imports.qualify(node);
  if (qualified === undefined || !/^[A-Za-z_]\w*$/.test(last)) return undefined;
  if (!ctx.errors.some((e) => e.name === last)) {
    // Declared in the port under its Python path, so the wire keeps its exc_path.
    const excPath = qualified.includes(".") ? qualified : `builtins.${qualified}`;
    ctx.errors.push({
      name: last,
      base: "Exception",
      excPath,
      registered: false,
      line: ctx.source.line(node),
      imported: true,
    });
  }
  return last;
}
