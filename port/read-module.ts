// A Python module as a ModuleModel: its Nameko services, exception classes and data shapes, and what
// could not be mapped (docs/porting.md, The report).
import { basename, dirname, join } from "node:path";
import { existsSync } from "node:fs";
import { NotANamekoService, ServiceNotFound } from "./errors";
import { ImportTable } from "./imports";
import { literalToTs, pythonString } from "./literals";
import type {
  DependencyKind,
  DependencyModel,
  ErrorClassModel,
  ModuleModel,
  PortIssue,
  ServiceModel,
  ShapeModel,
} from "./model";
import { BUILTIN_ERRORS, decoratorOf, lookup, type ReadContext } from "./read-common";
import { readMethod } from "./read-method";
import { callArgs, childrenOf, type PyNode, PythonSource } from "./python-source";
import { hintToTs, type ShapeLookup } from "./type-hints";

/** A top-level class: its decorators, bases and body statements. */
export interface ClassInfo {
  name: string;
  line: number;
  decorators: PyNode[];
  bases: PyNode[];
  body: PyNode[];
}

const DEPENDENCIES: Record<string, DependencyKind> = {
  "nameko.rpc.RpcProxy": "rpcProxy",
  "nameko.rpc.ServiceRpc": "rpcProxy",
  "nameko.events.EventDispatcher": "eventDispatcher",
  "nameko.dependency_providers.Config": "config",
  "nameko_sqlalchemy.DatabaseSession": "databaseSession",
  "nameko_sqlalchemy.database_session.DatabaseSession": "databaseSession",
  "nameko_sqlalchemy.Database": "database",
  "nameko_sqlalchemy.database.Database": "database",
  "nameko_redis.Redis": "redis",
  "nameko.web.websocket.WebSocketHubProvider": "webSocketHub",
};

const MARSHMALLOW_FIELDS: Record<string, string> = {
  Str: "string",
  String: "string",
  Email: "string",
  Url: "string",
  URL: "string",
  UUID: "string",
  DateTime: "string",
  NaiveDateTime: "string",
  AwareDateTime: "string",
  Date: "string",
  Time: "string",
  Int: "number",
  Integer: "number",
  Float: "number",
  Decimal: "number",
  Number: "number",
  Bool: "boolean",
  Boolean: "boolean",
  Dict: "Record<string, unknown>",
  Mapping: "Record<string, unknown>",
};

/** The dotted module path Nameko gives `file`: its name, under the packages (`__init__.py`) that hold it. */
export function modulePathOf(file: string): string {
  const parts = [basename(file).replace(/\.py$/, "")];
  for (let dir = dirname(file); existsSync(join(dir, "__init__.py")); dir = dirname(dir)) {
    parts.unshift(basename(dir));
    if (dirname(dir) === dir) break;
  }
  return parts.filter((p) => p !== "__init__").join(".");
}

function classesOf(source: PythonSource): ClassInfo[] {
  const out: ClassInfo[] = [];
  for (const stmt of childrenOf(source.top)) {
    const decorated = stmt.name === "DecoratedStatement";
    const def = decorated ? stmt.getChild("ClassDefinition") : stmt.name === "ClassDefinition" ? stmt : null;
    if (!def) continue;
    const nameNode = def.getChild("VariableName");
    const body = def.getChild("Body");
    out.push({
      name: nameNode ? source.textOf(nameNode) : "",
      line: source.line(def),
      decorators: decorated ? stmt.getChildren("Decorator") : [],
      bases: callArgs(source, def.getChild("ArgList"))
        .args.filter((a) => a.name === undefined)
        .map((a) => a.value),
      body: body ? childrenOf(body).filter((c) => c.name !== ":") : [],
    });
  }
  return out;
}

/** `x = value` or `x: T = value` in a class body: the target, its annotation and value. */
export function assignmentOf(
  source: PythonSource,
  stmt: PyNode,
): { target: string; hint?: PyNode; value?: PyNode } | undefined {
  if (stmt.name !== "AssignStatement") return undefined;
  const kids = childrenOf(stmt);
  if (kids[0]?.name !== "VariableName") return undefined;
  const hint = kids[1]?.name === "TypeDef" ? (kids[1].lastChild ?? undefined) : undefined;
  const eq = kids.findIndex((k) => k.name === "AssignOp");
  // `a = b = 1` and tuple targets are not class attributes port reads.
  if (eq >= 0 && kids.slice(eq + 1).some((k) => k.name === "AssignOp")) return undefined;
  return { target: source.textOf(kids[0]), hint, value: eq >= 0 ? kids[eq + 1] : undefined };
}

/** Read `file`'s text as a module model; `className` picks one service, and must name one. */
export function readModule(
  file: string,
  text: string,
  options: { className?: string; modulePath?: string } = {},
): ModuleModel {
  const source = PythonSource.parse(file, text);
  const modulePath = options.modulePath ?? modulePathOf(file);
  const issues: PortIssue[] = [];
  const classes = classesOf(source);
  const byName = new Map(classes.map((c) => [c.name, c]));
  const constants = new Map<string, string>();
  for (const stmt of childrenOf(source.top)) {
    const a = assignmentOf(source, stmt);
    const value = a?.value && literalToTs(source, a.value);
    if (a && value !== undefined) constants.set(a.target, value);
  }
  const localNames = new Set([...byName.keys(), ...constants.keys()]);
  const imports = new ImportTable(source, modulePath, localNames, issues);

  // Shapes first: hints anywhere in the module may name them.
  const shapeKind = (c: ClassInfo): "dataclass" | "typeddict" | "schema" | undefined => {
    if (
      c.decorators.some((d) =>
        /^(dataclass|dataclasses\.dataclass)$/.test(
          decoratorOf(source, imports, d).qualified?.replace(/^dataclasses\./, "") ?? "",
        ),
      )
    )
      return "dataclass";
    for (const b of c.bases) {
      const q = imports.qualify(b) ?? "";
      if (/(^|\.)TypedDict$/.test(q)) return "typeddict";
      if (/^marshmallow(\.schema)?\.Schema$/.test(q) || q === "Schema") return "schema";
      const local = byName.get(source.textOf(b));
      if (local && local !== c && shapeKind(local) === "schema") return "schema";
    }
    return undefined;
  };
  const shapeClasses = classes.filter((c) => shapeKind(c) !== undefined);
  const shapeNames = new Set(shapeClasses.map((c) => c.name));
  const shapes: ShapeLookup = (name) => (shapeNames.has(name) ? name : undefined);
  const shapeModels = shapeClasses.map((c) => readShape(source, imports, c, shapeKind(c)!, shapes, issues));

  const errors = readErrorClasses(source, imports, classes, modulePath);
  const context: ReadContext = { source, imports, issues, shapes, errors, modulePath };

  /** A class's attribute statements and methods, those of its bases in this module first. */
  const membersOf = (c: ClassInfo, report = false, seen: Set<string> = new Set()): PyNode[] => {
    seen.add(c.name);
    const inherited: PyNode[] = [];
    for (const b of c.bases) {
      const base = byName.get(source.textOf(b));
      if (base && !seen.has(base.name)) inherited.push(...membersOf(base, report, seen));
      else if (!base && report && source.textOf(b) !== "object")
        issues.push({
          line: source.line(b),
          severity: "warning",
          message: `${c.name}: base class \`${source.textOf(b)}\` is not in this file; its entrypoints and dependencies are not read`,
        });
    }
    return [...inherited, ...c.body];
  };
  const serviceName = (members: PyNode[]): string | undefined => {
    let name: string | undefined;
    for (const stmt of members) {
      const a = assignmentOf(source, stmt);
      if (a?.target !== "name" || a.hint || !a.value) continue;
      const literal = a.value.name === "String" ? pythonString(source.textOf(a.value)) : undefined;
      const constant = a.value.name === "VariableName" ? constants.get(source.textOf(a.value)) : undefined;
      name = literal ?? (constant?.startsWith('"') ? (JSON.parse(constant) as string) : undefined);
    }
    return name;
  };

  const candidates = classes.filter((c) => !shapeNames.has(c.name) && !errors.some((e) => e.name === c.name));
  let chosen: ClassInfo[];
  if (options.className !== undefined) {
    const c = byName.get(options.className);
    if (!c) throw new ServiceNotFound(`${file}: no class ${options.className} at the top level of the module`);
    if (!candidates.includes(c) || serviceName(membersOf(c)) === undefined)
      throw new NotANamekoService(file, c.line, c.name);
    chosen = [c];
  } else {
    chosen = candidates.filter((c) => serviceName(membersOf(c)) !== undefined);
    if (chosen.length === 0)
      throw new ServiceNotFound(`${file}: no Nameko service in the module (a class with a \`name = "..."\` attribute)`);
  }
  const services = chosen.map((c) => readService(context, c, membersOf(c, true), serviceName(membersOf(c))!));
  return {
    file,
    modulePath,
    services,
    errors: errors.map(({ imported: _imported, ...e }) => e),
    shapes: shapeModels,
    issues: issues.sort((a, b) => a.line - b.line),
  };
}

function readService(ctx: ReadContext, c: ClassInfo, members: PyNode[], name: string): ServiceModel {
  const { source, imports, issues } = ctx;
  const dependencies = new Map<string, DependencyModel>();
  const methods = new Map<string, ReturnType<typeof readMethod>>();
  for (const stmt of members) {
    const fn =
      stmt.name === "FunctionDefinition"
        ? { def: stmt, decorators: [] as PyNode[] }
        : stmt.name === "DecoratedStatement" && stmt.getChild("FunctionDefinition")
          ? { def: stmt.getChild("FunctionDefinition")!, decorators: stmt.getChildren("Decorator") }
          : undefined;
    if (fn) {
      const method = readMethod(ctx, fn.def, fn.decorators);
      if (method) methods.set(method.name, method);
      continue;
    }
    const a = assignmentOf(source, stmt);
    if (!a || a.target === "name" || !a.value || a.value.name !== "CallExpression") continue;
    const callee = a.value.firstChild!;
    const qualified = imports.qualify(callee);
    const kind = lookup(DEPENDENCIES, qualified);
    const { args } = callArgs(source, a.value.getChild("ArgList"));
    const python = source.textOf(stmt).trim();
    const line = source.line(stmt);
    if (kind === undefined) {
      // A call of a class-like name in a service body is a dependency provider, Nameko's or a custom one.
      if (!/^[A-Z]/.test(source.textOf(callee).split(".").pop() ?? "")) continue;
      issues.push({
        line,
        severity: "unmapped",
        message: `${c.name}.${a.target}: custom dependency provider \`${source.textOf(callee)}\`: write it as a DependencyProvider (docs/extensions.md)`,
      });
      dependencies.set(a.target, { attr: a.target, kind: "other", python, line });
      continue;
    }
    let arg: string | undefined;
    const first = args[0]?.value;
    if (kind === "databaseSession" || kind === "database") {
      // nameko-sqlalchemy takes the declarative base class; its name keys DB_URIS (docs/providers.md).
      arg = first ? JSON.stringify(source.textOf(first).split(".").pop()) : undefined;
    } else if (first) {
      arg = literalToTs(source, first);
      if (arg === undefined) {
        issues.push({
          line,
          severity: "unmapped",
          message: `${c.name}.${a.target}: argument \`${source.textOf(first)}\` is not a literal`,
        });
        arg = JSON.stringify(source.textOf(first));
      }
    }
    if (
      args.length > 1 ||
      (kind !== "rpcProxy" && kind !== "redis" && kind !== "databaseSession" && kind !== "database" && args.length > 0)
    )
      issues.push({
        line,
        severity: "unmapped",
        message: `${c.name}.${a.target}: options of \`${source.textOf(callee)}\` are not carried over: ${source.textOf(a.value)}`,
      });
    dependencies.set(a.target, { attr: a.target, kind, arg, python, line });
  }
  const out: ServiceModel = {
    className: c.name,
    name,
    line: c.line,
    methods: [...methods.values()].filter((m) => m !== undefined),
    dependencies: [...dependencies.values()],
  };
  return out;
}

function readShape(
  source: PythonSource,
  imports: ImportTable,
  c: ClassInfo,
  kind: "dataclass" | "typeddict" | "schema",
  shapes: ShapeLookup,
  issues: PortIssue[],
): ShapeModel {
  const fields: ShapeModel["fields"] = [];
  for (const stmt of c.body) {
    const a = assignmentOf(source, stmt);
    if (!a) continue;
    if (kind !== "schema") {
      if (!a.hint || /^(typing\.)?ClassVar/.test(source.textOf(a.hint))) continue;
      fields.push({ name: a.target, type: hintToTs(source, a.hint, shapes), optional: false });
      continue;
    }
    if (!a.value || a.value.name !== "CallExpression") continue;
    const field = schemaField(source, imports, a.value, shapes);
    if (field.type === "unknown")
      issues.push({
        line: source.line(stmt),
        severity: "warning",
        message: `${c.name}.${a.target}: marshmallow field \`${source.textOf(a.value)}\` typed as unknown`,
      });
    fields.push({ name: field.dataKey ?? a.target, type: field.type, optional: !field.required });
  }
  return { name: c.name, line: c.line, fields };
}

/** A marshmallow field call as a TypeScript type, with `required=True` and `data_key`. */
function schemaField(
  source: PythonSource,
  imports: ImportTable,
  call: PyNode,
  shapes: ShapeLookup,
): { type: string; required: boolean; dataKey?: string } {
  const fieldName = (imports.qualify(call.firstChild!) ?? "").split(".").pop() ?? "";
  const { args } = callArgs(source, call.getChild("ArgList"));
  const kw = (k: string): string | undefined => {
    const v = args.find((a) => a.name === k)?.value;
    return v ? source.textOf(v) : undefined;
  };
  const dataKeyText = kw("data_key");
  const dataKey = dataKeyText === undefined ? undefined : pythonString(dataKeyText);
  const required = kw("required") === "True";
  const first = args.find((a) => a.name === undefined)?.value;
  let type = MARSHMALLOW_FIELDS[fieldName] ?? "unknown";
  if (fieldName === "List" && first?.name === "CallExpression") {
    const inner = schemaField(source, imports, first, shapes).type;
    type = inner === "unknown" ? "unknown[]" : /[ |]/.test(inner) ? `Array<${inner}>` : `${inner}[]`;
  } else if (fieldName === "Nested" && first) {
    const target = first.name === "String" ? pythonString(source.textOf(first)) : source.textOf(first);
    const shape = target === undefined ? undefined : shapes(target);
    type = shape === undefined ? "unknown" : kw("many") === "True" ? `${shape}[]` : shape;
  }
  return { type, required, dataKey };
}

/** Exception classes of the module: those deriving from an exception, here or among the built-ins. */
function readErrorClasses(
  source: PythonSource,
  imports: ImportTable,
  classes: ClassInfo[],
  modulePath: string,
): Array<ErrorClassModel & { imported: boolean }> {
  const errors = new Map<string, ErrorClassModel & { imported: boolean }>();
  const isError = (c: ClassInfo, seen: Set<string>): boolean =>
    c.bases.some((b) => {
      const text = source.textOf(b);
      const local = classes.find((k) => k.name === text);
      if (local) return !seen.has(local.name) && isError(local, new Set([...seen, c.name]));
      return /(Error|Exception)$/.test(text);
    });
  for (const c of classes) {
    if (!isError(c, new Set())) continue;
    const baseText = c.bases.length ? source.textOf(c.bases[0]) : "Exception";
    const base = classes.some((k) => k.name === baseText) || BUILTIN_ERRORS.has(baseText) ? baseText : "Exception";
    let excPath = `${modulePath}.${c.name}`;
    let registered = false;
    for (const d of c.decorators) {
      const dec = decoratorOf(source, imports, d);
      if (/deserialize_to_instance$/.test(dec.qualified ?? "")) registered = true;
      if (/remote_error$/.test(dec.qualified ?? "")) {
        registered = true;
        const path = callArgs(source, dec.argList).args[0]?.value;
        const value = path?.name === "String" ? pythonString(source.textOf(path)) : undefined;
        if (value) excPath = value;
      }
    }
    errors.set(c.name, { name: c.name, base, excPath, registered, line: c.line, imported: false });
  }
  return [...errors.values()];
}
