import type { ModuleModel } from "./model";

/** The report's lines: `file:line: unmapped|warning: message`, in line order. */
export function formatIssues(model: ModuleModel): string[] {
  return model.issues.map((i) => `${model.file}:${i.line}: ${i.severity}: ${i.message}`);
}
