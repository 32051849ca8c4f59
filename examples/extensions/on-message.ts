// An entrypoint (docs/extensions.md, Writing an entrypoint): `@onMessage("sensors.reading")` runs the
// method for each JSON message published on a NATS subject, one instance of the service per message
// (queue group per service and method), and answers a request with the method's result.
import {
  contextFromNatsHeaders,
  registerEntrypoint,
  type ContainerHandle,
  type Entrypoint,
  type Msg,
  type Subscription,
} from "cliffracer";

export class MessageEntrypoint implements Entrypoint {
  private container?: ContainerHandle;
  private subscription?: Subscription;

  constructor(
    readonly methodName: string,
    readonly subject: string,
  ) {}

  setup(container: ContainerHandle): void {
    this.container = container;
  }

  start(): void {
    const { nats, config, serviceName } = this.container!;
    const prefix = config.prefix ? `${config.prefix}.` : "";
    this.subscription = nats.subscribe(`${prefix}${this.subject}`, {
      queue: `${prefix}${serviceName}.${this.methodName}`,
      callback: (err, msg) => {
        if (!err) this.handle(msg);
      },
    });
  }

  /** Stop taking messages; the container then waits for the workers already running. */
  async stop(): Promise<void> {
    await this.subscription?.drain();
  }

  kill(): void {
    this.subscription?.unsubscribe();
  }

  private handle(msg: Msg): void {
    let payload: unknown;
    try {
      payload = msg.json();
    } catch {
      if (msg.reply) msg.respond(JSON.stringify({ error: "the message is not JSON" }));
      return;
    }
    // The reply goes out from the result handler: as soon as the method ended, before dependencies'
    // workerResult and teardown. The context (nameko.* headers) continues the sender's.
    void this.container!.spawnWorker(this, [payload], contextFromNatsHeaders(msg.headers), (_worker, outcome) => {
      if (!msg.reply) return;
      const body = outcome.ok ? { result: outcome.result } : { error: String(outcome.error) };
      msg.respond(JSON.stringify(body));
    });
  }
}

/** Run the method for each message on `subject`. */
export function onMessage(subject: string): MethodDecorator {
  return (target, propertyKey) => registerEntrypoint(target, () => new MessageEntrypoint(String(propertyKey), subject));
}
