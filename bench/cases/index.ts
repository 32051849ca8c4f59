/** Every bench case, in table order (floors before the cases compared with them). */
import type { BenchCase } from "../lib/case";
import { amqpEventsFloor } from "./events-amqp-floor";
import { jetstreamFloor } from "./events-jetstream-floor";
import { amqpFloor } from "./rpc-amqp-floor";
import { moleculerPeer } from "./rpc-moleculer";
import { natsFloor } from "./rpc-nats-floor";

/** All cases; ids are stable (used by --only and in the JSON). */
export const CASES: BenchCase[] = [natsFloor, moleculerPeer, amqpFloor, jetstreamFloor, amqpEventsFloor];
