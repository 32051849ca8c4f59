/** Moleculer 0.14 caller: broker.call("echo.echo", { payload }) over NATS. */
import { echoArguments, PAYLOAD_COUNT } from "../lib/payload";
import { loadRole } from "../lib/load";
import type { StartRole } from "../lib/role";
import { moleculerBroker } from "./moleculer-service";

export const start: StartRole = async (options) => {
  const broker = moleculerBroker(String(options.namespace), `${String(options.namespace)}-caller`);
  await broker.start();
  await broker.waitForServices("echo", 30_000);
  const payloads = echoArguments();
  return loadRole(
    async (i) => {
      const payload = payloads[i % PAYLOAD_COUNT];
      const result = await broker.call("echo.echo", { payload }, { timeout: 10_000 });
      if (result !== payload) throw new Error(`wrong echo: ${JSON.stringify(result).slice(0, 200)}`);
    },
    () => broker.stop(),
  );
};
