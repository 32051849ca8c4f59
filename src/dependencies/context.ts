import type { DependencyProvider, WorkerContext } from "../core/extension";
import { registerDependency } from "../core/metadata";

/**
 * Injects the worker's context: `@Context() ctx!: WorkerContext`, then `this.ctx.data.user_id`,
 * `this.ctx.callIdStack`, `this.ctx.log` (Nameko's context-data providers in one).
 */
export function Context(): PropertyDecorator {
  return (target, propertyKey) => {
    const attrName = String(propertyKey);
    registerDependency(target, (): DependencyProvider => ({
      attrName,
      getDependency: (worker: WorkerContext) => worker,
    }));
  };
}
