import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { Svcm, type Service } from "@nats-io/services";
import { describeError, type Logger } from "../../compat";

/** The part of a NATS message the RPC entrypoint reads; both a core Msg and a services ServiceMsg fit. */
export interface InboundMessage {
  readonly subject: string;
  readonly reply?: string;
  readonly data: Uint8Array;
  readonly headers?: MsgHdrs;
  respond(data: string | Uint8Array, opts?: { headers?: MsgHdrs }): boolean;
}

/** A running intake subscription. */
export interface Intake {
  /** Stop intake; resolves once messages already received have been handed to the callback. */
  drain(): Promise<void>;
  /** Stop intake at once. */
  close(): void;
}

/** What the services protocol shows about a service. */
export interface AnnouncedService {
  name: string;
  version: string;
  description?: string;
  /** Added to the service's metadata, beside `framework: cliffracer` (e.g. the bridge's `bridged`). */
  metadata?: Record<string, string>;
}

/** The services protocol only allows `[-A-Za-z0-9_]` in names and requires semver versions. */
const SERVICE_NAME = /^[-\w]+$/;
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/**
 * Announces one container as a NATS micro service ($SRV.PING / INFO / STATS), so `nats micro ls`
 * lists it and the bridge can discover it (docs/nats-contract.md, Service discovery).
 *
 * Why the services framework owns the RPC subscription: @nats-io/services v3 subscribes every endpoint
 * it lists (there is no metadata-only endpoint), so listing `rpc.<svc>.*` while subscribing it
 * ourselves would deliver every request twice. Its endpoints take a queue group, so we let it own the
 * one `rpc.<svc>.*` subscription in queue group `rpc.<svc>`: the extra cost per request is a wrapper
 * object and two Date.now() calls, against a second delivery otherwise. The @rpc method names are
 * listed in the endpoint's metadata. When the name cannot be announced (characters the services
 * protocol refuses) the subscription is made directly and the service is simply not announced.
 */
export class ServiceAnnouncer {
  private service?: Service;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {}

  /** Start announcing; never throws (a service that cannot be announced still runs). */
  static async start(nc: NatsConnection, what: AnnouncedService, log: Logger): Promise<ServiceAnnouncer> {
    const announcer = new ServiceAnnouncer(nc, log);
    if (!SERVICE_NAME.test(what.name)) {
      log.warn("service not announced: the NATS services protocol refuses this name", { name: what.name });
      return announcer;
    }
    const version = SEMVER.test(what.version) ? what.version : "0.0.0";
    try {
      // @nats-io/services 3.0.0-25 (the latest) pins its own pre-release nats-core; the connection
      // interface it uses is the same, only the declared types are distinct.
      announcer.service = await new Svcm(nc as unknown as ConstructorParameters<typeof Svcm>[0]).add({
        name: what.name,
        version,
        description: what.description ?? "",
        metadata: { framework: "cliffracer", ...what.metadata },
      });
    } catch (err) {
      log.warn("service not announced", { name: what.name, error: describeError(err) });
    }
    return announcer;
  }

  /** One that announces nothing (`ANNOUNCE: false`): its rpcIntake is a plain queue subscription. */
  static silent(nc: NatsConnection, log: Logger): ServiceAnnouncer {
    return new ServiceAnnouncer(nc, log);
  }

  /** The services-protocol id of this instance, when announced. */
  get id(): string | undefined {
    return this.service?.ping().id;
  }

  /**
   * Subscribe the RPC intake of the service; listed as endpoint `rpc` when announced.
   * The callback must not throw.
   */
  rpcIntake(
    subject: string,
    queue: string,
    methods: readonly string[],
    callback: (msg: InboundMessage) => void,
  ): Intake {
    const service = this.service;
    if (!service) {
      const sub = this.nc.subscribe(subject, {
        queue,
        callback: (err, msg) => {
          if (err) this.log.error("rpc subscription failed", { subject, error: err.message });
          else callback(msg);
        },
      });
      return { drain: () => sub.drain(), close: () => sub.unsubscribe() };
    }
    service.addEndpoint("rpc", {
      subject,
      queue,
      metadata: { methods: methods.join(",") },
      handler: (err, msg) => {
        if (err) this.log.error("rpc subscription failed", { subject, error: err.message });
        else callback(msg as unknown as InboundMessage);
      },
    });
    // The endpoint's subscription belongs to the service: stopping intake stops the announcement too,
    // which is right, since a draining instance should no longer be discovered.
    return {
      drain: async () => {
        await service.stop();
      },
      close: () => void service.stop(),
    };
  }

  /** Stop announcing (and the RPC intake, if the service owns it). */
  async stop(): Promise<void> {
    if (this.service && !this.service.isStopped) await this.service.stop();
  }
}
