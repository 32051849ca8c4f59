import {
  bindArguments,
  type ContextData,
  describeError,
  type ErrorClass,
  isFunction,
  type MethodSignature,
  signatureOf,
} from "../../compat";
import type { ContainerHandle, Entrypoint, WorkerOutcome } from "../core/extension";
import { registerEntrypoint } from "../core/metadata";
import { ProviderCollector } from "../core/shared-extension";
import { ServiceDefinitionError } from "../errors";
import {
  responseFromException,
  responseFromResult,
  type HttpRequest,
  type HttpResult,
  type IncomingHttpRequest,
  type OutgoingResponse,
} from "./http-messages";
import { contextDataReader, type ContextDataFromHeaders } from "./http-context";
import { parseMethods, UrlRule, type PathValue } from "./http-rules";
import { SharedHttpServer, type HttpRouteTarget } from "./http-server";
import { httpServerSpan } from "../tracing/attributes";
import type { EntrypointSpan } from "../tracing/tracing";

/**
 * Turns an error into a response (Nameko's `HttpRequestHandler.response_from_exception`): any return
 * form of an @http method, or undefined for the default response. It sees every error of a request:
 * arguments that do not bind, an error thrown by the method, a return value that is not a response.
 */
export type ResponseFromException = (
  error: unknown,
  request: HttpRequest,
) => HttpResult | undefined | PromiseLike<HttpResult | undefined>;

/** Options of `@http()`. */
export interface HttpOptions {
  /** Errors answered with 400 instead of 500, and logged as warnings (Nameko's expected_exceptions). */
  expectedExceptions?: readonly ErrorClass[];
  /**
   * Map an error to a response; without it (or when it returns undefined, throws, or returns something
   * that is not a response) the default is `Error: <Type>: <message>` with 400 or 500.
   */
  responseFromException?: ResponseFromException;
  /**
   * The worker's context data from the request's headers (Nameko's `context_data_from_headers`):
   * `{ "X-Request-Id": "request_id" }` maps header names (any case) to context keys, or a function
   * of the request returns the data. It reaches `ctx.data` and every call and event the worker
   * makes. Default: none, as in Nameko.
   */
  contextDataFromHeaders?: ContextDataFromHeaders;
}

/**
 * An `@http` decorator with default options, for what Nameko does by subclassing HttpRequestHandler:
 * `const api = httpWith({ responseFromException: toJsonError })`, then `@api("GET", "/x")`. Options
 * given at a method override the defaults.
 */
export function httpWith(
  defaults: HttpOptions,
): (method: string, url: string, options?: HttpOptions) => MethodDecorator {
  return (method, url, options = {}) => http(method, url, { ...defaults, ...options });
}

/**
 * Serve a method over HTTP (Nameko's `@http`, docs/nameko-wire.md, HTTP) on the process's shared web
 * server (config WEB_SERVER_ADDRESS). `method` is a verb or a list such as `"GET,POST"`; `url` a
 * werkzeug rule such as `/orders/<int:id>`. The method receives the {@link HttpRequest} first,
 * then the path values by name, and returns an {@link HttpResult}.
 */
export function http(method: string, url: string, options: HttpOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const methodName = String(propertyKey);
    const where = `@http(${JSON.stringify(method)}, ${JSON.stringify(url)}) on ${methodName}`;
    // No descriptor when decorate() is given a name that is no method of the class.
    const fn: unknown = (descriptor as PropertyDescriptor | undefined)?.value;
    if (!isFunction(fn)) throw new ServiceDefinitionError(`${where}: not a method`);
    let entry: { methods: string[]; rule: UrlRule; signature: MethodSignature; contextData?: ContextDataReader };
    try {
      entry = { methods: parseMethods(method), rule: new UrlRule(url), signature: signatureOf(fn, methodName) };
      if (options.contextDataFromHeaders) entry.contextData = contextDataReader(options.contextDataFromHeaders);
      // Every request would fail with IncorrectSignature if the path variables do not fit the
      // parameters; say so when the class is defined instead.
      if (takesArguments(entry.signature) || entry.rule.variables.length > 0) {
        bindArguments(entry.signature, [null], Object.fromEntries(entry.rule.variables.map((v) => [v.name, null])));
      }
    } catch (err) {
      throw new ServiceDefinitionError(`${where}: ${describeError(err)}`);
    }
    registerEntrypoint(
      target,
      () => new HttpEntrypoint(methodName, entry.methods, entry.rule, entry.signature, options, entry.contextData),
    );
  };
}

type ContextDataReader = (request: HttpRequest) => ContextData;

/** Python needs `def m(self, request)`; a JavaScript method may ignore the request by declaring no parameter at all. */
function takesArguments(signature: MethodSignature): boolean {
  return signature.params.length > 0 || signature.varArgs || signature.varKwargs;
}

/** One @http method of one container; the container's shared HttpRoutes own the server. */
export class HttpEntrypoint implements Entrypoint, HttpRouteTarget {
  readonly expectedExceptions?: readonly ErrorClass[];
  readonly traceSpan: EntrypointSpan;
  private container?: ContainerHandle;
  private routes?: HttpRoutes;

  constructor(
    readonly methodName: string,
    readonly methods: readonly string[],
    readonly rule: UrlRule,
    readonly signature: MethodSignature,
    private readonly options: HttpOptions,
    /** Reads the worker's context data from a request; none without `contextDataFromHeaders`. */
    private readonly contextData?: ContextDataReader,
  ) {
    this.expectedExceptions = options.expectedExceptions;
    this.traceSpan = httpServerSpan(methods, rule.rule);
  }

  /** `http://host:port` of the server while this entrypoint is started (useful with port 0). */
  get baseUrl(): string | undefined {
    return this.routes?.server?.url;
  }

  setup(container: ContainerHandle): void {
    this.container = container;
    this.routes = container.shared(HttpRoutes);
    this.routes.register(this);
  }

  /** Nameko's HttpRequestHandler.handle_request: bind, run a worker, turn its outcome into a response. */
  async handle(request: IncomingHttpRequest, values: Record<string, PathValue>): Promise<OutgoingResponse> {
    const container = this.container!;
    let args: unknown[] = [request];
    let data: ContextData = {};
    try {
      // Read first, as Nameko's handle_request does; a reader that throws is answered like a failed worker.
      if (this.contextData) data = this.contextData(request);
      if (takesArguments(this.signature)) args = bindArguments(this.signature, args, values);
    } catch (err) {
      return this.errorResponse(err, request);
    }
    // The response is written as soon as the method ended, before dependencies' workerResult and
    // teardown (Nameko's handle_result); the returned promise, settled after teardown, is the fallback.
    const outcome = await new Promise<WorkerOutcome>((resolve) => {
      // The worker's stack is its own call id (docs/nameko-wire.md, HTTP); its data is what the headers
      // gave. A W3C `traceparent` header parents the worker's span (docs/tracing.md, Spans).
      const incoming = { data, parentStack: [], traceCarrier: request.headers };
      void container.spawnWorker(this, args, incoming, (_worker, o) => resolve(o)).then(resolve);
    });
    if (!outcome.ok) return this.errorResponse(outcome.error, request);
    try {
      return responseFromResult(outcome.result);
    } catch (err) {
      // Outside the worker, as in Nameko, so the container did not log it.
      container.log.error("http method returned an invalid response", { method: this.methodName, error: String(err) });
      return this.errorResponse(err, request);
    }
  }

  /** The service's responseFromException when it gives a response, else Nameko's default. */
  private async errorResponse(error: unknown, request: HttpRequest): Promise<OutgoingResponse> {
    const custom = this.options.responseFromException;
    if (custom) {
      try {
        const result = await custom(error, request);
        if (result !== undefined) return responseFromResult(result);
      } catch (err) {
        this.container?.log.error("responseFromException failed; default error response sent", {
          method: this.methodName,
          error: describeError(err),
        });
      }
    }
    return responseFromException(error, this.expectedExceptions ?? []);
  }
}

/**
 * The @http rules of one container, a shared extension: added to the process's web server at start
 * (after every method registered), removed at stop.
 */
class HttpRoutes extends ProviderCollector<HttpEntrypoint> {
  server?: SharedHttpServer;
  private starting?: Promise<void>;
  private stopping?: Promise<void>;

  /** Acquire the server once for all methods of the container; every rule goes live together. */
  start(): Promise<void> {
    return (this.starting ??= this.open());
  }

  /** Stop routing here; when this was the server's last container, close it once in-flight requests are answered. */
  stop(): Promise<void> {
    return (this.stopping ??= this.close(this.container.config.shutdownTimeoutMs));
  }

  /** Stop routing here; a server left without containers cuts its connections at once. */
  kill(): Promise<void> {
    if (this.stopping) {
      this.server?.cut();
      return this.stopping;
    }
    return (this.stopping = this.close(0));
  }

  private async open(): Promise<void> {
    const server = await SharedHttpServer.acquire(this.container.config.webServerAddress, this.container.log);
    try {
      for (const e of this.providers) server.rules.add(e.rule, e.methods, e);
    } catch (err) {
      for (const e of this.providers) server.rules.remove(e);
      await server.release(0);
      throw err;
    }
    this.server = server;
    this.container.log.debug("http routes added", {
      url: server.url,
      routes: [...this.providers].map((e) => `${e.methods.join(",")} ${e.rule.rule}`),
    });
  }

  private async close(graceMs: number): Promise<void> {
    await this.starting?.catch(() => undefined);
    const server = this.server;
    if (!server) return;
    for (const e of this.providers) server.rules.remove(e);
    await server.release(graceMs);
  }
}
