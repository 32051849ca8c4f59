import type { Command } from "commander";
import { decodeJson, describeError, encodeJson } from "../../compat";
import { standaloneDispatcher } from "../client/standalone-dispatcher";
import { loadConfig } from "../config/load-config";
import { CommandError } from "../errors";
import { createLogger } from "../logging";

/** The payload argument: any JSON value (Nameko sends whatever was dispatched); absent means null. */
export function parsePayload(json: string | undefined): unknown {
  if (json === undefined || json.trim() === "") return null;
  try {
    return decodeJson(json);
  } catch (err) {
    throw new CommandError(`Payload is not valid JSON: ${describeError(err)}`);
  }
}

/**
 * `cliffracer dispatch <service> <type> [json]`: publish an event as `service` the way Nameko's
 * standalone dispatcher does (no context headers), and print where the stream stored it.
 */
export function registerDispatch(program: Command): void {
  program
    .command("dispatch")
    .description("publish an event as <service>, like Nameko's standalone event dispatcher")
    .argument("<service>", "source service name")
    .argument("<type>", "event type")
    .argument("[json]", "the payload, any JSON value (default null)")
    .option("-c, --config <file>", "YAML config file")
    .action(async (service: string, type: string, json: string | undefined, opts: { config?: string }) => {
      const payload = parsePayload(json);
      const config = loadConfig({ file: opts.config });
      // Logs go to stderr: stdout carries the result only.
      const dispatch = await standaloneDispatcher({
        natsUrl: config.natsUrl,
        prefix: config.prefix,
        natsOptions: config.nats,
        events: config.events,
        log: createLogger({ stderr: true }),
      });
      try {
        const ack = await dispatch.publisher.publish(service, type, payload);
        process.stdout.write(`${encodeJson({ stream: ack.stream, seq: ack.seq })}\n`);
      } finally {
        await dispatch.close();
      }
    });
}
