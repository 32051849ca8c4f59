/**
 * Runtime standalone client (ClusterRpcProxy) calling `<service>.echo(payload)`; with `count`, call
 * i goes to service `<service>_<i mod count>` (runtime-service.ts, scaleNames).
 */
import { ClusterRpcProxy } from "cliffracer";
import { loadRole } from "../lib/load";
import { bodyBytesOption, echoArguments } from "../lib/payload";
import type { StartRole } from "../lib/role";
import { benchConfig, scaleNames } from "./runtime-service";

export const start: StartRole = async (options) => {
  const cluster = await ClusterRpcProxy.connect({ config: benchConfig(), timeoutMs: 10_000 });
  const count = options.count as number | undefined;
  const names = count === undefined ? [String(options.service)] : scaleNames(String(options.service), count);
  const services = names.map((name) => cluster.service(name));
  const payloads = echoArguments(bodyBytesOption(options));
  return loadRole(
    async (i) => {
      const payload = payloads[i % payloads.length];
      const result = await services[i % services.length].echo(payload);
      if (result !== payload) throw new Error(`wrong echo: ${JSON.stringify(result).slice(0, 200)}`);
    },
    () => cluster.close(),
  );
};
