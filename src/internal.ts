/**
 * The runtime's internal entry: what the layers above `src/` (the bridge and the `cliffracer`
 * command) build on beyond the public API. Not part of the package's public surface and not
 * covered by semver; the same pattern as nats.js's `internal_mod`. Other layers import the runtime
 * only through this module or `index.ts` (test/unit/architecture/import-boundaries.test.ts).
 */
export { RpcClient } from "./client/rpc-client";
export { EventNotStored, EventPublisher } from "./client/event-publisher";
export { dialNats, drainNats, logNatsStatus, natsOptions } from "./nats/connection";
export { assertFitsNats, maxPayloadOf, natsPayloadTooLarge, oversize } from "./nats/payload-size";
export { batchNatsWrites } from "./nats/write-batching";
export { contextFromNatsHeaders, contextToNatsHeaders } from "./nats/headers";
export { discoverServices } from "./nats/service-discovery";
export { ServiceAnnouncer, type InboundMessage, type Intake } from "./nats/service-announcer";
export {
  BODY_REF_HEADER,
  bodyBucketOf,
  bodyRefOf,
  BodyStore,
  largeBodiesOf,
  LargeBodyMissing,
  withBodyRef,
  type BodyBucket,
} from "./nats/body-store";
export { rootLogger } from "./logging";
export type { EventsConfig, RuntimeConfig } from "./config/defaults";
export { configFromObject, parseConfigText, readConfigFile } from "./config/load-config";
export {
  ensureEventConsumer,
  ensureEventsStream,
  eventsSettings,
  eventsStreamConfig,
  isApiError,
  PullLoop,
  type EventConsumerSpec,
  type EventsSettings,
} from "./nats/jetstream";
export { stopOnSignals } from "./core/signals";
export {
  Buckets,
  collected,
  createRegistry,
  FlowMetrics,
  UpGauge,
  type FlowInstruments,
  type Registry,
  type RegistryOptions,
} from "./observability/metrics";
export {
  startOpsServer,
  type OpsAnswer,
  type OpsHandler,
  type OpsRequest,
  type OpsServer,
  type OpsServerOptions,
  type ProbeResult,
} from "./observability/ops-server";
