// What an @http method sees and may return, and how both map onto HTTP the way Nameko's
// HttpRequestHandler maps them (docs/nameko-wire.md, HTTP; Nameko's response_from_result and
// response_from_exception).
import type { IncomingHttpHeaders } from "node:http";
import { BadRequest, describeError, type ErrorClass, pyRepr, serializeError } from "../../compat";

/** The request passed first to an @http method (the werkzeug Request of Nameko, reduced to what a port needs). */
export interface HttpRequest {
  /** Upper-case verb. */
  readonly method: string;
  /** The request target as received: path and query string, still percent-encoded. */
  readonly url: string;
  /** The path, percent-decoded (what the rule matched). */
  readonly path: string;
  /** Query parameters; `getAll` for repeated keys (werkzeug's `request.args`). */
  readonly query: URLSearchParams;
  /** Header names in lower case. */
  readonly headers: IncomingHttpHeaders;
  /** The raw body; empty when there is none. */
  readonly body: Buffer;
  /** The client's address. */
  readonly remoteAddress?: string;
  /** The body decoded as UTF-8. */
  text(): string;
  /** The body parsed as JSON; a body that is not JSON throws BadRequest (400), as werkzeug's get_json does. */
  json(): unknown;
}

/** Response headers: a mapping, or name/value pairs when a name repeats. */
export type HttpHeaders =
  Readonly<Record<string, string | number | readonly string[]>> | ReadonlyArray<readonly [string, string]>;

/** Options of an {@link HttpResponse}. */
export interface HttpResponseOptions {
  /** Default 200. */
  status?: number;
  headers?: HttpHeaders;
  /** Default `text/plain; charset=utf-8`; a `content-type` in `headers` wins. */
  contentType?: string;
}

/** A full response (Nameko's werkzeug `Response`): the only return form whose body may be binary. */
export class HttpResponse {
  readonly status: number;
  readonly headers?: HttpHeaders;
  readonly contentType?: string;

  constructor(
    readonly body: string | Uint8Array = "",
    options: HttpResponseOptions = {},
  ) {
    this.status = options.status ?? 200;
    this.headers = options.headers;
    this.contentType = options.contentType;
  }

  /** A JSON response (`JSON.stringify(value)`, `application/json`). */
  static json(value: unknown, options: Omit<HttpResponseOptions, "contentType"> = {}): HttpResponse {
    return new HttpResponse(JSON.stringify(value) ?? "null", { ...options, contentType: "application/json" });
  }
}

/** What an @http method may return (or resolve to): a body, `[status, body]`, `[status, headers, body]` or an {@link HttpResponse}. */
export type HttpResult = string | readonly [number, string] | readonly [number, HttpHeaders, string] | HttpResponse;

/** A response ready to write. */
export interface OutgoingResponse {
  status: number;
  headers: Array<[string, string]>;
  body: string | Uint8Array;
}

/** Nameko's default: werkzeug's `text/plain; charset=utf-8`. */
export const DEFAULT_CONTENT_TYPE = "text/plain; charset=utf-8";

function headerPairs(headers: HttpHeaders | undefined): Array<[string, string]> {
  if (headers === undefined || headers === null) return [];
  if (Array.isArray(headers))
    return (headers as ReadonlyArray<readonly [string, string]>).map(([k, v]) => [String(k), String(v)]);
  if (typeof headers !== "object")
    throw new TypeError(`Headers must be a mapping or a list of pairs. Got \`${pyRepr(headers)}\``);
  return Object.entries(headers).flatMap(([k, v]): Array<[string, string]> =>
    Array.isArray(v) ? v.map((item: string): [string, string] => [k, String(item)]) : [[k, String(v)]],
  );
}

function response(
  status: unknown,
  headers: HttpHeaders | undefined,
  body: string | Uint8Array,
  contentType?: string,
): OutgoingResponse {
  if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599) {
    throw new TypeError(`Invalid status code: ${pyRepr(status)}`);
  }
  const pairs = headerPairs(headers);
  if (!pairs.some(([k]) => k.toLowerCase() === "content-type"))
    pairs.unshift(["content-type", contentType ?? DEFAULT_CONTENT_TYPE]);
  return { status, headers: pairs, body };
}

/** A JS array stands for a Python tuple only in the two tuple shapes; any other value is a payload. */
function isTuple(result: unknown): result is readonly [number, string] | readonly [number, HttpHeaders, string] {
  return Array.isArray(result) && (result.length === 2 || result.length === 3) && typeof result[0] === "number";
}

/** Nameko's response_from_result; a payload that is not a string throws Nameko's TypeError. */
export function responseFromResult(result: unknown): OutgoingResponse {
  if (result instanceof HttpResponse) {
    if (typeof result.body !== "string" && !(result.body instanceof Uint8Array)) {
      throw new TypeError(`Payload must be a string. Got \`${pyRepr(result.body)}\``);
    }
    return response(result.status, result.headers, result.body, result.contentType);
  }
  let status: unknown = 200;
  let headers: HttpHeaders | undefined;
  let payload: unknown = result;
  if (isTuple(result)) {
    if (result.length === 3) [status, headers, payload] = result;
    else [status, payload] = result;
  }
  if (typeof payload !== "string") throw new TypeError(`Payload must be a string. Got \`${pyRepr(payload)}\``);
  return response(status, headers, payload);
}

/** Nameko's response_from_exception: 400 for BadRequest or an expected exception, else 500. */
export function responseFromException(error: unknown, expected: readonly ErrorClass[] = []): OutgoingResponse {
  const status = error instanceof BadRequest || expected.some((cls) => error instanceof cls) ? 400 : 500;
  const { exc_type, value } = serializeError(error);
  return { status, headers: [["content-type", DEFAULT_CONTENT_TYPE]], body: `Error: ${exc_type}: ${value}\n` };
}

/** The request object handed to the method. */
export class IncomingHttpRequest implements HttpRequest {
  readonly query: URLSearchParams;

  constructor(
    readonly method: string,
    readonly url: string,
    readonly path: string,
    readonly headers: IncomingHttpHeaders,
    readonly body: Buffer,
    readonly remoteAddress?: string,
  ) {
    const q = url.indexOf("?");
    this.query = new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
  }

  text(): string {
    return this.body.toString("utf8");
  }

  json(): unknown {
    try {
      return JSON.parse(this.text()) as unknown;
    } catch (err) {
      throw new BadRequest(`Failed to decode JSON object: ${describeError(err)}`);
    }
  }
}
