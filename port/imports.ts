// The names a Python module imports, so `@rpc`, `@nameko.rpc.rpc` and `from nameko.rpc import rpc as r`
// all resolve to `nameko.rpc.rpc`, and names from modules port does not read are known as such.
import { childrenOf, type PyNode, type PythonSource } from "./python-source";
import type { PortIssue } from "./model";

/** Packages whose names port knows; a name imported from anywhere else is not seen (a warning when used). */
const KNOWN_ROOTS = new Set([
  "nameko",
  "nameko_sqlalchemy",
  "nameko_redis",
  "typing",
  "dataclasses",
  "marshmallow",
  "builtins",
]);

interface Imported {
  qualified: string;
  module: string;
  line: number;
}

/** The import table of one module, and the module's own top-level names. */
export class ImportTable {
  private readonly names = new Map<string, Imported>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly source: PythonSource,
    private readonly modulePath: string,
    private readonly localNames: ReadonlySet<string>,
    private readonly issues: PortIssue[],
  ) {
    for (const node of childrenOf(source.top)) if (node.name === "ImportStatement") this.read(node);
  }

  private read(node: PyNode): void {
    const text = this.source
      .textOf(node)
      .replace(/#[^\n]*/g, "")
      .replace(/[()\\\n]/g, " ");
    const line = this.source.line(node);
    const from = /^\s*from\s+([.\w]+)\s+import\s+(.+)$/s.exec(text);
    if (from) {
      const module = this.absolute(from[1]);
      for (const part of from[2].split(",")) {
        const [name, alias] = part.trim().split(/\s+as\s+/);
        if (name && name !== "*") this.names.set(alias ?? name, { qualified: `${module}.${name}`, module, line });
      }
      return;
    }
    const plain = /^\s*import\s+(.+)$/s.exec(text);
    for (const part of plain ? plain[1].split(",") : []) {
      const [name, alias] = part.trim().split(/\s+as\s+/);
      if (!name) continue;
      // `import a.b` binds `a`; `import a.b as c` binds `c` to `a.b`.
      const bound = alias ?? name.split(".")[0];
      this.names.set(bound, { qualified: alias ? name : bound, module: name, line });
    }
  }

  /** `.mod` and `..pkg.mod` against this module's package. */
  private absolute(module: string): string {
    const dots = /^\.*/.exec(module)?.[0].length ?? 0;
    if (dots === 0) return module;
    const pkg = this.modulePath.split(".").slice(0, -dots);
    const rest = module.slice(dots);
    return [...pkg, ...(rest ? [rest] : [])].join(".");
  }

  /**
   * The dotted name a Name or attribute expression stands for: imported names qualified by their
   * module, names of this module by its path, anything else (builtins) as written.
   */
  qualify(node: PyNode): string | undefined {
    const dotted = this.dotted(node);
    if (dotted === undefined) return undefined;
    const [head, ...rest] = dotted.split(".");
    const imported = this.names.get(head);
    if (imported) {
      this.noteUse(head, imported);
      return [imported.qualified, ...rest].join(".");
    }
    if (this.localNames.has(head)) return [this.modulePath, head, ...rest].join(".");
    return dotted;
  }

  /** Whether `name` is imported (rather than a builtin or a name of this module). */
  isImported(name: string): boolean {
    return this.names.has(name);
  }

  private dotted(node: PyNode): string | undefined {
    if (node.name === "VariableName") return this.source.textOf(node);
    if (node.name !== "MemberExpression") return undefined;
    const text = this.source.textOf(node).replace(/\s+/g, "");
    return /^[A-Za-z_][\w.]*$/.test(text) ? text : undefined;
  }

  /** A name from a module port does not read: warned once, at its import. */
  private noteUse(name: string, imported: Imported): void {
    const root = imported.module.split(".")[0];
    if (KNOWN_ROOTS.has(root) || this.warned.has(name)) return;
    this.warned.add(name);
    this.issues.push({
      line: imported.line,
      severity: "warning",
      message: `\`${name}\` comes from \`${imported.module}\`, which is not read (port reads one file): what it is could not be checked`,
    });
  }
}
