/** Every bench case, in table order (floors before the cases compared with them). */
import type { BenchCase } from "../lib/case";
import { amqpEventsFloor } from "./events-amqp-floor";
import { jetstreamFloor } from "./events-jetstream-floor";
import { runtimeEvents } from "./events-runtime";
import { bridgeEventsAmqpToNats, bridgeEventsNatsToAmqp } from "./events-bridge";
import { relayAmqpToJetStream, relayJetStreamToAmqp } from "./events-relay-reference";
import {
  bridgeAmqpToRuntime,
  bridgeAmqpToRuntimeAtLeastOnce,
  bridgeAmqpToRuntimeLeanRecord,
} from "./rpc-bridge-amqp-to-runtime";
import { bridgeRuntimeToAmqp } from "./rpc-bridge-runtime-to-amqp";
import { amqpFloor } from "./rpc-amqp-floor";
import { namekoAmqp } from "./rpc-nameko-amqp";
import { namekoAmqpRecorded } from "./rpc-nameko-amqp-recorded";
import { namekoPython } from "./rpc-nameko-python";
import { moleculerPeer } from "./rpc-moleculer";
import { natsFloor } from "./rpc-nats-floor";
import { PAYLOAD_CASES } from "./payload-size";
import { runtimeClient } from "./rpc-runtime-client";
import { runtimeProxy } from "./rpc-runtime-proxy";
import { scaleFiftyServices, scaleOneHandler, scaleOneService, scaleThousandHandlers } from "./scale";
import { twoBridgesAmqpToRuntime, twoBridgesRuntimeToAmqp } from "./bridges-two";

/** All cases; ids are stable (used by --only and in the JSON). */
export const CASES: BenchCase[] = [
  natsFloor,
  runtimeClient,
  runtimeProxy,
  moleculerPeer,
  amqpFloor,
  namekoAmqp,
  namekoAmqpRecorded,
  namekoPython,
  bridgeAmqpToRuntime,
  bridgeAmqpToRuntimeAtLeastOnce,
  bridgeAmqpToRuntimeLeanRecord,
  bridgeRuntimeToAmqp,
  twoBridgesAmqpToRuntime,
  twoBridgesRuntimeToAmqp,
  scaleOneService,
  scaleFiftyServices,
  jetstreamFloor,
  runtimeEvents,
  amqpEventsFloor,
  relayAmqpToJetStream,
  bridgeEventsAmqpToNats,
  relayJetStreamToAmqp,
  bridgeEventsNatsToAmqp,
  ...PAYLOAD_CASES,
  scaleOneHandler,
  scaleThousandHandlers,
];
