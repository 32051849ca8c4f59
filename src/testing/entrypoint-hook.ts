import { bindArguments } from "../../compat";
import type { ContextData } from "../../compat";
import { KwArgs } from "../client/service-proxy";
import type { Entrypoint } from "../core/extension";
import type { ServiceContainer } from "../core/service-container";
import { RpcEntrypoint } from "../entrypoints/rpc";
import { ExtensionNotFound } from "./errors";
import type { MethodName, Untyped } from "./types";

/** A hook of a method typed `F`: its arguments, or any arguments ending with `kwargs({...})`; its awaited result. */
export interface TypedHook<F> {
  (...args: F extends (...args: infer A) => unknown ? A : never): Promise<HookResult<F>>;
  (...args: [...unknown[], KwArgs]): Promise<HookResult<F>>;
}

type HookResult<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

/** What entrypointHook returns for method `K` of a service typed `T` (untyped: any arguments, an unknown result). */
export type EntrypointHook<T, K extends PropertyKey> =
  Untyped<T> extends true ? (...args: unknown[]) => Promise<unknown> : K extends keyof T ? TypedHook<T[K]> : never;

/** The entrypoint of `methodName` in a container, or ExtensionNotFound naming those it has. */
export function findEntrypoint(container: ServiceContainer, methodName: string): Entrypoint {
  const entrypoint = container.entrypoints.find((e) => e.methodName === methodName);
  if (!entrypoint) {
    const known = [...new Set(container.entrypoints.map((e) => e.methodName))];
    throw new ExtensionNotFound("entrypoint", [methodName], known, container.serviceName);
  }
  return entrypoint;
}

/**
 * Fire an entrypoint of a running container directly, as if triggered from outside, and get its
 * result or its error (Nameko's entrypoint_hook): `await entrypointHook(container, "hello")("Ada")`.
 * For @rpc methods, a trailing `kwargs({...})` binds by name and DTOs are validated, as for a remote
 * call. On a typed container (`ServiceContainer<MyService>`) the hook is typed from the method.
 */
export function entrypointHook<T extends object, K extends MethodName<T>>(
  container: ServiceContainer<T>,
  methodName: K,
  contextData: ContextData = {},
): EntrypointHook<T, K> {
  const entrypoint = findEntrypoint(container, methodName);
  const hook = async (...args: unknown[]): Promise<unknown> => {
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
  return hook as EntrypointHook<T, K>;
}
