// A ModuleModel as a TypeScript port: the same wire identity, each body left to port
// (docs/porting.md, What port writes).
import type { DependencyModel, EntrypointModel, MethodModel, ModuleModel, ParamModel, ServiceModel } from "./model";
import { BUILTIN_ERRORS } from "./read-common";
import { formatIssues } from "./report";
import { TsImports } from "./imports-ts";
import { shapeInterfaces } from "./emit-interface";
import { jsName } from "./names";

const PRIMITIVE_LITERAL = /^(-?[\d.]|"|true$|false$)/;

/** One parameter as TypeScript, in a form `signatureOf` (compat/binding.ts) reads back to the same Python signature. */
export function paramTs(p: ParamModel): string {
  const name = jsName(p.name);
  if (p.kind === "varArgs") return `...${name}: unknown[]`;
  // A trailing object pattern is how a method takes Python's **kwargs (docs/nameko-wire.md, Argument binding).
  if (p.kind === "varKwargs") return `{ ...${name} }: Record<string, unknown>`;
  if (!p.default) return `${name}: ${p.type}`;
  const literal = p.default.ts;
  if (literal === undefined)
    return `${name}: ${p.type === "unknown" ? "unknown" : `${p.type} | undefined`} = undefined`;
  if (p.type === "unknown")
    return PRIMITIVE_LITERAL.test(literal) ? `${name} = ${literal}` : `${name}: unknown = ${literal}`;
  // Python allows `x: int = None`; TypeScript needs the null in the type.
  const type = literal === "null" && !/\bnull\b/.test(p.type) ? `${p.type} | null` : p.type;
  return `${name}: ${type} = ${literal}`;
}

/**
 * The `signature` option of `@rpc`: keyword-only names, which JavaScript cannot say; or, when a
 * parameter had to be renamed, every parameter under its Python name (compat/binding.ts reads the
 * names from the source otherwise).
 */
function signatureOption(method: MethodModel): string | undefined {
  const named = orderedParams(method.params).filter((p) => p.kind === "positional" || p.kind === "keywordOnly");
  if (named.some((p) => jsName(p.name) !== p.name)) {
    const specs = named.map(
      (p) =>
        `{ name: ${JSON.stringify(p.name)}, hasDefault: ${p.default !== undefined}, keywordOnly: ${p.kind === "keywordOnly"} }`,
    );
    return `{ params: [${specs.join(", ")}] }`;
  }
  const keywordOnly = named.filter((p) => p.kind === "keywordOnly").map((p) => JSON.stringify(p.name));
  return keywordOnly.length ? `{ keywordOnly: [${keywordOnly.join(", ")}] }` : undefined;
}

/** The TypeScript parameter order: positional, keyword-only, then **kwargs' object, then *args' rest. */
export function orderedParams(params: ParamModel[]): ParamModel[] {
  const rank: Record<ParamModel["kind"], number> = { positional: 0, keywordOnly: 1, varKwargs: 2, varArgs: 3 };
  return [...params].sort((a, b) => rank[a.kind] - rank[b.kind]);
}

function objectLiteral(entries: Array<[string, string | undefined]>): string {
  const present = entries.filter((e): e is [string, string] => e[1] !== undefined);
  return present.length ? `{ ${present.map(([k, v]) => `${k}: ${v}`).join(", ")} }` : "";
}

function list(names: string[]): string | undefined {
  return names.length ? `[${names.join(", ")}]` : undefined;
}

function decoratorTs(ep: EntrypointModel, method: MethodModel, imports: TsImports): string {
  const expected = list(ep.expectedExceptions);
  switch (ep.kind) {
    case "rpc": {
      imports.add("cliffracer", "rpc");
      const options = objectLiteral([
        ["expectedExceptions", expected],
        ["sensitiveArguments", list(ep.sensitiveArguments)],
        ["signature", signatureOption(method)],
      ]);
      return `@rpc(${options})`;
    }
    case "event": {
      imports.add("cliffracer", "eventHandler");
      if (ep.handlerType) imports.add("cliffracer", "HandlerType");
      const options = objectLiteral([
        ["handlerType", ep.handlerType],
        ["reliableDelivery", ep.reliableDelivery],
        ["requeueOnError", ep.requeueOnError],
        ["expectedExceptions", expected],
      ]);
      return `@eventHandler(${[ep.source, ep.eventType, ...(options ? [options] : [])].join(", ")})`;
    }
    case "timer":
      imports.add("cliffracer", "timer");
      return `@timer(${objectLiteral([
        ["interval", ep.interval],
        ["eager", ep.eager],
        ["expectedExceptions", expected],
      ])})`;
    case "wsRpc": {
      imports.add("cliffracer", "wsRpc");
      const options = objectLiteral([
        ["expectedExceptions", expected],
        ["signature", signatureOption(method)],
      ]);
      return `@wsRpc(${options})`;
    }
    case "http": {
      imports.add("cliffracer", "http");
      const options = objectLiteral([["expectedExceptions", expected]]);
      return `@http(${[ep.method, ep.url, ...(options ? [options] : [])].join(", ")})`;
    }
  }
}

function dependencyTs(d: DependencyModel, imports: TsImports): string[] {
  const field = (module: string, decorator: string, type: string): string[] => {
    imports.add(module, decorator);
    imports.add(module, type, true);
    return [`@${decorator}(${d.arg ?? ""}) ${d.attr}!: ${type};`];
  };
  switch (d.kind) {
    case "rpcProxy":
      return field("cliffracer", "RpcProxy", "ServiceProxy");
    case "eventDispatcher":
      return field("cliffracer", "EventDispatcher", "Dispatch");
    case "config":
      return field("cliffracer", "Config", "ConfigValues");
    case "databaseSession":
      return field("cliffracer/sql", "DatabaseSession", "SqlSession");
    case "database":
      return field("cliffracer/sql", "Database", "DatabaseWrapper");
    case "redis":
      return field("cliffracer/redis", "Redis", "RedisClient");
    case "webSocketHub":
      return field("cliffracer", "WebSocketHub", "WebSocketHub");
    case "other":
      return [
        `// TODO(port): a custom dependency provider; write it as one (docs/extensions.md). Python: ${d.python}`,
        `${d.attr}!: unknown;`,
      ];
  }
}

function methodTs(service: ServiceModel, m: MethodModel, file: string, imports: TsImports): string[] {
  imports.add("cliffracer", "NotImplementedError");
  const body = (m.body || "pass").split("\n").map((l) => `    //   ${l}`.trimEnd());
  return [
    `  // ${file}:${m.line}`,
    ...m.entrypoints.map((ep) => `  ${decoratorTs(ep, m, imports)}`),
    `  ${m.name}(${orderedParams(m.params).map(paramTs).join(", ")}): ${m.returns} {`,
    "    // TODO(port): the Python body:",
    ...body,
    `    throw new NotImplementedError(${JSON.stringify(`${service.name}.${m.name} is not ported yet`)});`,
    "  }",
  ];
}

/** The TypeScript source of a port of the module's services. */
export function emitService(model: ModuleModel, command: string): string {
  const imports = new TsImports();
  const out: string[] = [];
  for (const e of model.errors) {
    const base = BUILTIN_ERRORS.has(e.base)
      ? e.base
      : model.errors.some((k) => k.name === e.base)
        ? e.base
        : "Exception";
    if (BUILTIN_ERRORS.has(base)) imports.add("cliffracer", base);
    out.push("");
    if (e.registered) {
      imports.add("cliffracer", "namekoError");
      out.push(`/** Python's ${e.excPath}: registered, so callers get this class back. */`);
      out.push(`@namekoError(${JSON.stringify(e.excPath)})`);
      out.push(`export class ${e.name} extends ${base} {}`);
    } else {
      imports.add("cliffracer", "registerError");
      out.push(`/** Python's ${e.excPath}: sent with that exc_path; callers get a RemoteError, as from Nameko. */`);
      out.push(`export class ${e.name} extends ${base} {}`);
      out.push(`registerError(${JSON.stringify(e.excPath)}, ${e.name}, { deserialize: false });`);
    }
  }
  for (const m of model.services.flatMap((s) => s.methods))
    for (const ep of m.entrypoints)
      for (const name of ep.expectedExceptions) if (BUILTIN_ERRORS.has(name)) imports.add("cliffracer", name);
  const shapes = shapeInterfaces(model);
  if (shapes) out.push("", shapes);
  for (const s of model.services) {
    out.push(
      "",
      `/** Port of ${model.modulePath}.${s.className} (${model.file}:${s.line}). */`,
      `export class ${s.className} {`,
    );
    out.push(`  name = ${JSON.stringify(s.name)};`);
    if (s.dependencies.length)
      out.push("", ...s.dependencies.flatMap((d) => dependencyTs(d, imports).map((l) => `  ${l}`)));
    for (const m of s.methods) out.push("", ...methodTs(s, m, model.file, imports));
    out.push("}");
  }
  const report = formatIssues(model);
  const header = [
    `// Scaffolded by \`${command}\` (docs/porting.md). The wire identity of the Nameko service is kept:`,
    "// its name, methods, parameter names, order and defaults, entrypoints, dependencies and errors.",
    "// Each method throws NotImplementedError until its body, kept below it as a comment, is ported.",
    ...(report.length ? ["//", "// Not mapped (fix these by hand):", ...report.map((l) => `//   ${l}`)] : []),
  ];
  return `${header.join("\n")}\n${imports.render()}\n${out.join("\n")}\n`;
}
