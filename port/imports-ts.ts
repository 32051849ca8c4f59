/** The named imports a generated TypeScript file needs, grouped by module, written in a stable order. */
export class TsImports {
  private readonly byModule = new Map<string, Map<string, boolean>>();

  /** Import `name` from `module`; `typeOnly` names are written `type X`. */
  add(module: string, name: string, typeOnly = false): void {
    const names = this.byModule.get(module) ?? new Map<string, boolean>();
    names.set(name, (names.get(name) ?? true) && typeOnly);
    this.byModule.set(module, names);
  }

  render(): string {
    return [...this.byModule.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([module, names]) => {
        const list = [...names.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([n, typeOnly]) => (typeOnly ? `type ${n}` : n));
        return `import { ${list.join(", ")} } from "${module}";`;
      })
      .join("\n");
  }
}
