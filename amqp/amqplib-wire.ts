/**
 * The socket under one amqplib connection, for what amqp/ does to its own connections' bytes
 * (write batching, py-amqp's `L` tag; docs/write-batching.md). amqplib's typings stop at
 * `ChannelModel.connection`; 2.x keeps the socket as `connection.stream` (it writes through the
 * socket's `write()` and reads through its `read()`) and the bytes it has read but not yet parsed
 * as `connection.rest`. Both are checked here, and test/integration/amqp/wire-shape.test.ts fails
 * loudly when an amqplib release moves them.
 */
import { Socket } from "node:net";
import type { ChannelModel } from "amqplib";

/** One amqplib connection's socket, and the bytes amqplib has already taken from it unparsed. */
export interface AmqplibWire {
  socket: Socket;
  unparsed: Buffer;
}

/** The wire of `model`, or undefined when amqplib no longer has the shape described above. */
export function amqplibWireOf(model: ChannelModel): AmqplibWire | undefined {
  const connection: unknown = model.connection;
  if (typeof connection !== "object" || connection === null) return undefined;
  const { stream, rest } = connection as { stream?: unknown; rest?: unknown };
  if (!(stream instanceof Socket) || !Buffer.isBuffer(rest)) return undefined;
  return { socket: stream, unparsed: rest };
}
