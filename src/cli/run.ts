import { createRequire } from "node:module";
import path from "node:path";
import type { Command } from "commander";
import { loadConfig } from "../config/load-config";
import { hasEntrypoints, serviceNameOf, type ServiceClass } from "../core/metadata";
import { stopOnSignals } from "../core/signals";
import { CommandError } from "../errors";
import { rootLogger } from "../logging";
import { describeError, errorLogFields } from "../../compat";

/** Split `path/to/module.ts[:ClassName]`. */
function parseSpec(spec: string): { file: string; className?: string } {
  const colon = spec.lastIndexOf(":");
  const tail = colon === -1 ? "" : spec.slice(colon + 1);
  if (colon > 0 && /^[A-Za-z_$][\w$]*$/.test(tail)) return { file: spec.slice(0, colon), className: tail };
  return { file: spec };
}

/** The service classes a spec names: the one after `:` (with or without entrypoints), else every exported class with a name and entrypoints. */
export function loadServiceClasses(spec: string, cwd = process.cwd()): ServiceClass[] {
  const { file, className } = parseSpec(spec);
  const resolved = path.resolve(cwd, file);
  let mod: Record<string, unknown>;
  try {
    // `.ts` modules load through ts-node, which bin/cliffracer.js registers in a source checkout.
    mod = createRequire(resolved)(resolved) as Record<string, unknown>;
  } catch (err) {
    // The first line only: Node appends the require stack, which says nothing to a user.
    throw new CommandError(`Cannot load ${file}: ${describeError(err).split("\n")[0]}`);
  }
  if (className) {
    // Named explicitly, a class runs with no entrypoints at all, idle, as `nameko run module:Class` does.
    const cls = mod[className];
    if (!isServiceClass(cls) || !hasName(cls))
      throw new CommandError(`${file} exports no service class ${className} (a class with a name)`);
    return [cls];
  }
  const found = Object.values(mod).filter(
    (v, i, all): v is ServiceClass => hasEntrypoints(v) && all.indexOf(v) === i && hasName(v),
  );
  if (found.length === 0)
    throw new CommandError(`${file} exports no service class (a class with a name and @rpc or other entrypoints)`);
  return found;
}

function isServiceClass(value: unknown): value is ServiceClass {
  return typeof value === "function" && value.prototype !== undefined;
}

/** Has a `name` at all (a base class with entrypoints may have none); whether it is valid is checked when added. */
function hasName(cls: ServiceClass): boolean {
  try {
    const name = serviceNameOf(cls);
    return typeof name === "string" && name !== "";
  } catch {
    return false;
  }
}

/**
 * `cliffracer run <module>[:Class]... [--config file] [--metrics [host:]port]`: run services until
 * SIGTERM/SIGINT, then stop gracefully; with a metrics address, serve /metrics, /health and /ready
 * there from before the services start (docs/metrics.md).
 */
export function registerRun(program: Command): void {
  program
    .command("run")
    .description("run services from .ts or .js modules")
    .argument("<modules...>", "module path, optionally :ClassName")
    .option("-c, --config <file>", "YAML config file")
    .option("--metrics <address>", "serve /metrics, /health and /ready on [host:]port (default: METRICS_ADDRESS; off)")
    .action(async (specs: string[], opts: { config?: string; metrics?: string }) => {
      // Imported here: the runner is most of what the CLI could load, and no other command needs
      // it; the metrics and the ops server (fastify, prom-client) only when an address asks for them.
      const { ServiceRunner } = await import("../core/service-runner");
      const config = loadConfig({ file: opts.config });
      if (opts.metrics !== undefined) config.metricsAddress = opts.metrics;
      const observability =
        config.metricsAddress === undefined
          ? undefined
          : await Promise.all([import("../observability/service-metrics"), import("../observability/service-ops")]);
      const metrics = observability ? new observability[0].ServiceMetrics() : undefined;
      const runner = new ServiceRunner(config, { metrics });
      for (const spec of specs) for (const cls of loadServiceClasses(spec)) runner.addService(cls);
      // Listening first, so an orchestrator sees "alive, not ready" while the services start.
      const ops =
        observability && metrics
          ? await observability[1].startServiceOps(runner, metrics, config, rootLogger)
          : undefined;
      try {
        await runner.start();
      } catch (err) {
        // The open server would keep the process alive after the command failed.
        await ops?.close();
        throw err;
      }
      // A service killed by an error (a failed managed task) ends the process, as in Nameko.
      const died = new Promise<number>((resolve) => {
        runner.wait().catch((err: unknown) => {
          rootLogger.error("a service died", errorLogFields(err));
          resolve(1);
        });
      });
      const code = await Promise.race([stopOnSignals(runner, rootLogger), died]);
      rootLogger.info("exiting", { code });
      // Exit explicitly: a user's leftover timer or socket must not keep a stopped service alive.
      // (stdout/stderr writes are synchronous on Linux for files, pipes and terminals, so no log is lost.)
      process.exit(code);
    });
}
