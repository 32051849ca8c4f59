// The porting tools (docs/porting.md): a Nameko module read with @lezer/python, written out as a
// TypeScript port or as interfaces for typed callers.
import { readFileSync } from "node:fs";
import { emitInterface } from "./emit-interface";
import { emitService } from "./emit-service";
import type { ModuleModel } from "./model";
import { readModule } from "./read-module";
import { formatIssues } from "./report";

export { NotANamekoService, PythonSyntaxError, ServiceNotFound } from "./errors";
export type * from "./model";
export { readModule, modulePathOf } from "./read-module";
export { emitService } from "./emit-service";
export { emitInterface } from "./emit-interface";
export { formatIssues } from "./report";

/** Split `path/to/module.py[:ServiceClass]`. */
export function parseModuleSpec(spec: string): { file: string; className?: string } {
  const m = /^(.*\.py):([A-Za-z_]\w*)$/.exec(spec);
  return m ? { file: m[1], className: m[2] } : { file: spec };
}

/** What `cliffracer port` and `cliffracer types` produce for one module. */
export interface Scaffold {
  model: ModuleModel;
  /** The TypeScript text. */
  text: string;
  /** The report's lines (`file:line: severity: message`). */
  report: string[];
}

function load(spec: string, modulePath?: string): ModuleModel {
  const { file, className } = parseModuleSpec(spec);
  return readModule(file, readFileSync(file, "utf8"), { className, modulePath });
}

/** The TypeScript port of `module.py[:Class]`. */
export function scaffoldPort(spec: string, options: { modulePath?: string } = {}): Scaffold {
  const model = load(spec, options.modulePath);
  return { model, text: emitService(model, `cliffracer port ${spec}`), report: formatIssues(model) };
}

/** The caller interfaces of `module.py[:Class]`. */
export function scaffoldTypes(spec: string, options: { modulePath?: string } = {}): Scaffold {
  const model = load(spec, options.modulePath);
  return { model, text: emitInterface(model, `cliffracer types ${spec}`), report: formatIssues(model) };
}
