// A scripted WebSocket session against a Nameko-style `/ws` endpoint (docs/websocket.md, Frames),
// for comparing a port with its original frame by frame
// (docs/side-by-side.md, WebSocket services): every client's frames, in order, socket ids
// replaced by the clients' names.
import { WsClient } from "./ws-client";

/** One step: a client sends a frame (a call, or raw text). */
export interface WsStep {
  client: string;
  call?: { method: string; data?: Record<string, unknown>; correlation_id?: unknown };
  /** Sent as is instead of a call (bad input). */
  raw?: string;
}

/** A session: the clients, the steps, and a harmless call used to sync each client after a step. */
export interface WsSession {
  clients: string[];
  steps: WsStep[];
  /** Its replies are not kept; it only proves every frame sent before it has arrived. */
  sync: { method: string; data?: Record<string, unknown> };
}

/** Every client's frames, parsed, socket ids replaced by `<name>`. */
export type WsTranscript = Record<string, unknown[]>;

const SYNC = "__sync__";

/** Replaces every string that is a client's socket id by `<client>`. */
function named(value: unknown, ids: ReadonlyMap<string, string>): unknown {
  if (typeof value === "string") return ids.has(value) ? `<${ids.get(value)}>` : value;
  if (Array.isArray(value)) return value.map((v) => named(v, ids));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, named(v, ids)]));
  return value;
}

/**
 * Runs `session` against `url`. After each step, the sender waits for its reply and every other
 * client makes the sync call: frames on one socket arrive in order, so anything the step sent to
 * a client (a broadcast) is in before that client's sync reply.
 */
export async function runWsSession(url: string, session: WsSession): Promise<WsTranscript> {
  const clients = new Map<string, WsClient>();
  const frames: WsTranscript = {};
  const ids = new Map<string, string>();
  try {
    for (const name of session.clients) {
      const client = await WsClient.connect(url);
      clients.set(name, client);
      ids.set(client.socketId, name);
      frames[name] = [JSON.parse(client.connectedFrame)];
    }
    /** Reads `client`'s frames up to the reply whose correlation id is `id`, keeping them unless syncing. */
    const until = async (name: string, id: unknown, keep: boolean): Promise<void> => {
      const client = clients.get(name)!;
      for (;;) {
        const frame = JSON.parse(await client.next()) as { type?: string; correlation_id?: unknown };
        const isReply = frame.type === "result" && frame.correlation_id === id;
        if (keep || !isReply) frames[name]!.push(frame);
        if (isReply) return;
      }
    };
    for (const [i, step] of session.steps.entries()) {
      const client = clients.get(step.client);
      if (client === undefined) throw new Error(`step ${i + 1}: no client ${step.client}`);
      if (step.raw !== undefined) {
        client.socket.send(step.raw);
        await until(step.client, null, true);
      } else {
        const call = { data: {}, correlation_id: `${i + 1}`, ...step.call };
        client.socket.send(JSON.stringify(call));
        await until(step.client, call.correlation_id, true);
      }
      for (const [name, other] of clients) {
        if (name === step.client) continue;
        other.socket.send(
          JSON.stringify({ method: session.sync.method, data: session.sync.data ?? {}, correlation_id: SYNC }),
        );
        await until(name, SYNC, false);
      }
    }
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close().catch(() => undefined)));
  }
  return named(frames, ids) as WsTranscript;
}
