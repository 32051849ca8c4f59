/**
 * An independent Nameko 2.14 peer on plain amqplib, written only from the wire notes (docs/nameko-wire.md).
 * It imports nothing from compat/, src/ or bridge/ (enforced by test/interop/nameko-peer/imports.test.ts).
 */
export {
  startPeerService,
  type PeerService,
  type PeerServiceOptions,
  type PeerMethod,
  type PeerWorker,
  type PeerDelivery,
} from "./service";
export { PeerCaller, PeerUnknownService, PeerRpcTimeout, type PeerCallerOptions, type PeerSendOptions } from "./caller";
export {
  PeerDispatcher,
  startPeerHandler,
  type PeerHandler,
  type PeerHandlerOptions,
  type PeerEvent,
  type PeerDispatchOptions,
} from "./events";
export {
  PeerRemoteError,
  namekoException,
  pyDumps,
  pyHeaders,
  pyContext,
  pyContextHeaders,
  declareServiceQueue,
  declareReplyQueue,
  declareHandlerQueue,
  declareTopic,
  peerConnect,
  RPC_EXCHANGE,
  type PeerHandlerSpec,
  type PyError,
} from "./wire";
