// The text frames of Nameko's WebSocket RPC (docs/websocket.md, Frames): what a client sends, the
// result and error replies, and the event frames the server pushes. Pure: no sockets here.
import { decodeJson, encodeJsonAt, MalformedRequest, serializeError, UnserializableValueError } from "../../compat";

/** One decoded call frame: `{"method": ..., "data": {...}, "correlation_id": ...}`. */
export interface WsCallFrame {
  /** As sent; only a string can name a method. */
  method: unknown;
  /** The keyword arguments as sent; a falsy value (missing, null, `{}`, `[]`, `0`) reads as `{}`. */
  data: unknown;
  /** Echoed in the reply as sent; null when missing. */
  correlationId: unknown;
}

function isDict(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Python's truthiness of a JSON value, for Nameko's `data.get('data') or {}`. */
function pyTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isDict(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

/**
 * Decode a call frame as Nameko does. Text that is not JSON, JSON that is not an object, and an
 * object without `method` all fail with the same `MalformedRequest("Invalid JSON data")`.
 */
export function decodeWsFrame(raw: string | Uint8Array): WsCallFrame {
  let frame: unknown;
  try {
    frame = decodeJson(raw);
  } catch {
    frame = undefined;
  }
  if (!isDict(frame) || !Object.prototype.hasOwnProperty.call(frame, "method")) {
    throw new MalformedRequest("Invalid JSON data");
  }
  return {
    method: frame.method,
    data: pyTruthy(frame.data) ? frame.data : {},
    correlationId: frame.correlation_id ?? null,
  };
}

// Each frame is one level of the message, so its values may nest one level less (docs/nameko-wire.md, Values).

/** `{"type": "result", "success": false, "error": {...}, "correlation_id": ...}` for anything thrown. */
export function encodeWsError(error: unknown, correlationId: unknown): string {
  return (
    '{"type": "result", "success": false, "error": ' +
    encodeJsonAt(serializeError(error), 1) +
    ', "correlation_id": ' +
    encodeJsonAt(correlationId, 1) +
    "}"
  );
}

/**
 * `{"type": "result", "success": true, "data": R, "correlation_id": ...}`; a result that cannot be
 * JSON-encoded becomes an UnserializableValueError reply (Nameko would drop the connection).
 */
export function encodeWsResult(result: unknown, correlationId: unknown): string {
  let data: string;
  try {
    data = encodeJsonAt(result, 1);
  } catch (err) {
    return encodeWsError(
      err instanceof UnserializableValueError ? err : new UnserializableValueError(result),
      correlationId,
    );
  }
  return (
    '{"type": "result", "success": true, "data": ' +
    data +
    ', "correlation_id": ' +
    encodeJsonAt(correlationId, 1) +
    "}"
  );
}

/**
 * `{"type": "event", "event": E, "data": D}`, the frame of `connected` and of the hub's broadcasts
 * and unicasts. Throws UnserializableValueError when `data` cannot be JSON-encoded.
 */
export function encodeWsEvent(event: string, data: unknown): string {
  return '{"type": "event", "event": ' + encodeJsonAt(event, 1) + ', "data": ' + encodeJsonAt(data, 1) + "}";
}
