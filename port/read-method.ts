// One method of a service class: its parameters as Python binds them, its entrypoint decorators in
// Cliffracer's terms, and its body kept for the scaffold's comment.
import { elementsOf, literalToTs, pythonString } from "./literals";
import type { EntrypointModel, MethodModel, ParamModel } from "./model";
import { callArgs, childrenOf, type CallArg, type PyNode } from "./python-source";
import { decoratorOf, errorClassName, lookup, type ReadContext } from "./read-common";
import { hintToTs } from "./type-hints";

const ENTRYPOINTS: Record<string, EntrypointModel["kind"]> = {
  "nameko.rpc.rpc": "rpc",
  "nameko.events.event_handler": "event",
  "nameko.timer.timer": "timer",
  "nameko.web.handlers.http": "http",
  "nameko.web.websocket.rpc": "wsRpc",
};

const HANDLER_TYPES: Record<string, string> = {
  "nameko.events.SERVICE_POOL": "HandlerType.SERVICE_POOL",
  "nameko.events.SINGLETON": "HandlerType.SINGLETON",
  "nameko.events.BROADCAST": "HandlerType.BROADCAST",
};

/** Decorators that change nothing on the wire. */
const HARMLESS = new Set(["staticmethod", "classmethod", "functools.wraps"]);

/** The parameters of a ParamList, `self` left out, and how many are positional-only. */
function readParams(ctx: ReadContext, list: PyNode, where: string): { params: ParamModel[]; positionalOnly: number } {
  const { source, issues, shapes } = ctx;
  const params: ParamModel[] = [];
  let positionalOnly = 0;
  let kind: ParamModel["kind"] = "positional";
  const kids = childrenOf(list).filter((k) => k.name !== "(" && k.name !== ")" && k.name !== ",");
  let selfSkipped = false;
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i];
    const text = source.textOf(k);
    // The grammar keeps no node for `/`: it shows in the text between two parameters.
    if (source.text.slice(kids[i - 1]?.to ?? list.from, k.from).includes("/")) positionalOnly = params.length;
    if (k.name === "*" || k.name === "**") {
      // `*, a` (a bare star) only makes what follows keyword-only; `*args` names the rest.
      const next = k.nextSibling;
      if (next?.name === "VariableName") {
        const hint = kids[i + 2]?.name === "TypeDef" ? kids[i + 2].lastChild : undefined;
        params.push({
          name: source.textOf(next),
          kind: k.name === "*" ? "varArgs" : "varKwargs",
          type: hintToTs(source, hint, shapes),
        });
        issues.push({
          line: source.line(k),
          severity: "unmapped",
          message: `${where}: \`${k.name}${source.textOf(next)}\` becomes ${k.name === "*" ? "a rest parameter" : "a trailing keyword object"}; check how the body uses it`,
        });
        i += hint ? 2 : 1;
      }
      kind = "keywordOnly";
      continue;
    }
    if (k.name !== "VariableName") continue;
    if (!selfSkipped) {
      selfSkipped = true;
      continue;
    }
    const param: ParamModel = { name: text, kind, type: "unknown" };
    if (kids[i + 1]?.name === "TypeDef") {
      param.type = hintToTs(source, kids[i + 1].lastChild, shapes);
      i++;
    }
    if (kids[i + 1]?.name === "AssignOp") {
      const value = kids[i + 2];
      const python = source.textOf(value);
      param.default = { python, ts: literalToTs(source, value) };
      if (param.default.ts === undefined)
        issues.push({
          line: source.line(value),
          severity: "unmapped",
          message: `${where}: default of \`${text}\` is not a literal (\`${python}\`): the scaffold gives \`undefined\``,
        });
      i += 2;
    }
    params.push(param);
  }
  if (kids.length && source.text.slice(kids[kids.length - 1].to, list.to).includes("/")) positionalOnly = params.length;
  if (positionalOnly > 0) {
    issues.push({
      line: source.line(list),
      severity: "unmapped",
      message: `${where}: positional-only parameters (\`/\`) are bound by name too in Cliffracer`,
    });
  }
  return { params, positionalOnly };
}

/** Names in `expected_exceptions=X` or `(X, Y)`, as the port's classes. */
function expectedExceptions(ctx: ReadContext, value: PyNode | undefined, where: string): string[] {
  if (!value) return [];
  const items = value.name === "TupleExpression" || value.name === "ArrayExpression" ? elementsOf(value) : [value];
  const out: string[] = [];
  for (const item of items) {
    const name = errorClassName(ctx, item);
    if (name) out.push(name);
    else
      ctx.issues.push({
        line: ctx.source.line(item),
        severity: "unmapped",
        message: `${where}: expected exception \`${ctx.source.textOf(item)}\` is not a class name`,
      });
  }
  return out;
}

/** A literal option, or the Python text as a string when it is not one (flagged). */
function literalOption(ctx: ReadContext, value: PyNode, where: string, what: string): string {
  const ts = literalToTs(ctx.source, value);
  if (ts !== undefined) return ts;
  ctx.issues.push({
    line: ctx.source.line(value),
    severity: "unmapped",
    message: `${where}: ${what} \`${ctx.source.textOf(value)}\` is not a literal`,
  });
  return JSON.stringify(ctx.source.textOf(value));
}

function readEntrypoint(
  ctx: ReadContext,
  kind: EntrypointModel["kind"],
  args: CallArg[],
  where: string,
  line: number,
): EntrypointModel {
  const positional = args.filter((a) => a.name === undefined).map((a) => a.value);
  const kw = (name: string, index = -1): PyNode | undefined =>
    args.find((a) => a.name === name)?.value ?? (index >= 0 ? positional[index] : undefined);
  const known: Record<EntrypointModel["kind"], string[]> = {
    rpc: ["expected_exceptions", "sensitive_arguments"],
    event: [
      "source_service",
      "event_type",
      "handler_type",
      "reliable_delivery",
      "requeue_on_error",
      "expected_exceptions",
    ],
    timer: ["interval", "eager", "expected_exceptions"],
    http: ["method", "url", "expected_exceptions"],
    wsRpc: ["expected_exceptions"],
  };
  for (const a of args)
    if (a.name !== undefined && !known[kind].includes(a.name))
      ctx.issues.push({
        line,
        severity: "unmapped",
        message: `${where}: option \`${a.name}\` has no Cliffracer counterpart`,
      });
  const expected = expectedExceptions(ctx, kw("expected_exceptions"), where);
  const option = (node: PyNode | undefined, what: string): string | undefined =>
    node ? literalOption(ctx, node, where, what) : undefined;
  switch (kind) {
    case "rpc": {
      const sensitive = kw("sensitive_arguments");
      const items = sensitive ? (sensitive.name === "String" ? [sensitive] : elementsOf(sensitive)) : [];
      return {
        kind,
        expectedExceptions: expected,
        sensitiveArguments: items.map((i) => literalOption(ctx, i, where, "sensitive argument")),
      };
    }
    case "event": {
      const handlerNode = kw("handler_type", 2);
      let handlerType: string | undefined;
      if (handlerNode) {
        const text = handlerNode.name === "String" ? pythonString(ctx.source.textOf(handlerNode)) : undefined;
        handlerType =
          lookup(HANDLER_TYPES, ctx.imports.qualify(handlerNode)) ??
          (text ? `HandlerType.${text.toUpperCase()}` : undefined);
        if (handlerType === undefined || !Object.values(HANDLER_TYPES).includes(handlerType)) {
          ctx.issues.push({
            line,
            severity: "unmapped",
            message: `${where}: handler type \`${ctx.source.textOf(handlerNode)}\` is not one of Nameko's`,
          });
          handlerType = undefined;
        }
      }
      return {
        kind,
        source: option(kw("source_service", 0), "source service") ?? '""',
        eventType: option(kw("event_type", 1), "event type") ?? '""',
        handlerType,
        reliableDelivery: option(kw("reliable_delivery", 3), "reliable_delivery"),
        requeueOnError: option(kw("requeue_on_error", 4), "requeue_on_error"),
        expectedExceptions: expected,
      };
    }
    case "timer":
      return {
        kind,
        interval: option(kw("interval", 0), "interval") ?? "0",
        eager: option(kw("eager", 1), "eager"),
        expectedExceptions: expected,
      };
    case "http":
      return {
        kind,
        method: option(kw("method", 0), "method") ?? '"GET"',
        url: option(kw("url", 1), "url") ?? '"/"',
        expectedExceptions: expected,
      };
    case "wsRpc":
      return { kind, expectedExceptions: expected };
  }
}

/** The method body's text, dedented, without the `:`. */
function bodyText(ctx: ReadContext, body: PyNode | null): string {
  if (!body) return "";
  const text = ctx.source.textOf(body).replace(/^:[ \t]*/, "");
  const lines = text.replace(/^(#[^\n]*)?\n/, "").split("\n");
  const indents = lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines
    .map((l) => l.slice(cut))
    .join("\n")
    .replace(/\s+$/, "");
}

/**
 * The exception classes a body raises that come from elsewhere: declared in the port under their
 * Python path, so what the port raises keeps Nameko's `exc_path` (builtins have stand-ins).
 */
function declareRaised(ctx: ReadContext, body: PyNode | null): void {
  body?.cursor().iterate((n) => {
    if (n.name !== "RaiseStatement") return;
    const raised = n.node.getChild("CallExpression")?.firstChild ?? n.node.lastChild;
    if (!raised || (raised.name !== "VariableName" && raised.name !== "MemberExpression")) return;
    const head = ctx.source.textOf(raised).split(".")[0];
    if (ctx.imports.isImported(head)) errorClassName(ctx, raised);
  });
}

/** Read one `def` of a service class with its decorators. */
export function readMethod(ctx: ReadContext, def: PyNode, decorators: PyNode[]): MethodModel | undefined {
  const { source, issues } = ctx;
  const nameNode = def.getChild("VariableName");
  const list = def.getChild("ParamList");
  if (!nameNode || !list) return undefined;
  const name = source.textOf(nameNode);
  const where = `${name}()`;
  const { params, positionalOnly } = readParams(ctx, list, where);
  const entrypoints: EntrypointModel[] = [];
  for (const d of decorators) {
    const dec = decoratorOf(source, ctx.imports, d);
    const kind = lookup(ENTRYPOINTS, dec.qualified);
    const line = source.line(d);
    if (kind === undefined) {
      if (!HARMLESS.has(dec.qualified ?? ""))
        issues.push({
          line,
          severity: "unmapped",
          message: `${where}: decorator \`${dec.text}\` (a custom entrypoint or wrapper) is not mapped`,
        });
      continue;
    }
    const { args, starred } = callArgs(source, dec.argList);
    if (starred)
      issues.push({
        line,
        severity: "unmapped",
        message: `${where}: \`*\`/\`**\` arguments of ${dec.text} are not read`,
      });
    entrypoints.push(readEntrypoint(ctx, kind, args, where, line));
  }
  declareRaised(ctx, def.getChild("Body"));
  const returnsNode = childrenOf(def).find((c) => c.name === "TypeDef");
  return {
    name,
    line: source.line(decorators[0] ?? def),
    params,
    positionalOnly,
    returns: hintToTs(source, returnsNode?.lastChild, ctx.shapes),
    entrypoints,
    body: bodyText(ctx, def.getChild("Body")),
  };
}
