import { bindArguments } from "../../compat";
import type { ContextData } from "../../compat";
import { KwArgs } from "../client/service-proxy";
import type { Entrypoint } from "../core/extension";
import type { ServiceContainer } from "../core/service-container";
import { RpcEntrypoint } from "../entrypoints/rpc";

/** The entrypoint of `methodName` in a container, or a clear error. */
export function findEntrypoint(container: ServiceContainer, methodName: string): Entrypoint {
  const entrypoint = container.entrypoints.find((e) => e.methodName === methodName);
  if (!entrypoint) throw new Error(`${container.serviceName} has no entrypoint ${methodName}`);
  return entrypoint;
}

/**
 * Fire an entrypoint of a running container directly, as if triggered from outside, and get its
 * result or its error (Nameko's entrypoint_hook): `await entrypointHook(container, "hello")("Ada")`.
 * For @rpc methods, a trailing `kwargs({...})` binds by name and DTOs are validated, as for a remote call.
 */
export function entrypointHook(
  container: ServiceContainer,
  methodName: string,
  contextData: ContextData = {},
): (...args: unknown[]) => Promise<unknown> {
  const entrypoint = findEntrypoint(container, methodName);
  return async (...args: unknown[]) => {
    const last = args[args.length - 1];
    const [positional, named] = last instanceof KwArgs ? [args.slice(0, -1), last.values] : [args, {}];
    let bound: unknown[] = positional;
    if (entrypoint instanceof RpcEntrypoint) {
      // Bind exactly as the RPC intake does, DTO validation included.
      bound = entrypoint.dto
        ? await entrypoint.bindDto({ args: positional, kwargs: named })
        : bindArguments(entrypoint.signature, positional, named);
    }
    const outcome = await container.spawnWorker(entrypoint, bound, { data: { ...contextData }, parentStack: [] });
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  };
}
