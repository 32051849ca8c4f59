import {
  bindArguments,
  describeError,
  type ErrorClass,
  isFunction,
  type MethodSignature,
  signatureOf,
} from "../../compat";
import type { ContainerHandle, Entrypoint } from "../core/extension";
import { registerEntrypoint } from "../core/metadata";
import { ServiceDefinitionError } from "../errors";
import {
  responseFromException,
  responseFromResult,
  type IncomingHttpRequest,
  type OutgoingResponse,
} from "./http-messages";
import { parseMethods, UrlRule, type PathValue } from "./http-rules";
import { SharedHttpServer, type HttpRouteTarget } from "./http-server";

/** Options of `@http()`. */
export interface HttpOptions {
  /** Errors answered with 400 instead of 500, and logged as warnings (Nameko's expected_exceptions). */
  expectedExceptions?: readonly ErrorClass[];
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
    const fn: unknown = descriptor.value;
    if (!isFunction(fn)) throw new ServiceDefinitionError(`${where}: not a method`);
    let entry: { methods: string[]; rule: UrlRule; signature: MethodSignature };
    try {
      entry = { methods: parseMethods(method), rule: new UrlRule(url), signature: signatureOf(fn, methodName) };
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
      () => new HttpEntrypoint(methodName, entry.methods, entry.rule, entry.signature, options),
    );
  };
}

/** Python needs `def m(self, request)`; a JavaScript method may ignore the request by declaring no parameter at all. */
function takesArguments(signature: MethodSignature): boolean {
  return signature.params.length > 0 || signature.varArgs || signature.varKwargs;
}

/** One @http method of one container; the container's HttpRoutes own the server. */
export class HttpEntrypoint implements Entrypoint, HttpRouteTarget {
  readonly expectedExceptions?: readonly ErrorClass[];
  private container?: ContainerHandle;
  private routes?: HttpRoutes;

  constructor(
    readonly methodName: string,
    readonly methods: readonly string[],
    readonly rule: UrlRule,
    readonly signature: MethodSignature,
    options: HttpOptions,
  ) {
    this.expectedExceptions = options.expectedExceptions;
  }

  /** `http://host:port` of the server while this entrypoint is started (useful with port 0). */
  get baseUrl(): string | undefined {
    return this.routes?.server?.url;
  }

  setup(container: ContainerHandle): void {
    this.container = container;
    this.routes = HttpRoutes.of(container);
    this.routes.register(this);
  }

  start(): Promise<void> | undefined {
    return this.routes?.start();
  }

  stop(): Promise<void> | undefined {
    return this.routes?.stop();
  }

  kill(): Promise<void> | undefined {
    return this.routes?.kill();
  }

  /** Nameko's HttpRequestHandler.handle_request: bind, run a worker, turn its outcome into a response. */
  async handle(request: IncomingHttpRequest, values: Record<string, PathValue>): Promise<OutgoingResponse> {
    const expected = this.expectedExceptions ?? [];
    const container = this.container!;
    let args: unknown[] = [request];
    try {
      if (takesArguments(this.signature)) args = bindArguments(this.signature, args, values);
    } catch (err) {
      return responseFromException(err, expected);
    }
    // No context data from HTTP headers: the worker's stack is its own call id (docs/nameko-wire.md, HTTP).
    const outcome = await container.spawnWorker(this, args, { data: {}, parentStack: [] });
    if (!outcome.ok) return responseFromException(outcome.error, expected);
    try {
      return responseFromResult(outcome.result);
    } catch (err) {
      // Outside the worker, as in Nameko, so the container did not log it.
      container.log.error("http method returned an invalid response", { method: this.methodName, error: String(err) });
      return responseFromException(err, expected);
    }
  }
}

const routesOf = new WeakMap<ContainerHandle, HttpRoutes>();

/** The @http rules of one container: added to the shared server at start, removed at stop. */
class HttpRoutes {
  server?: SharedHttpServer;
  private readonly entrypoints: HttpEntrypoint[] = [];
  private starting?: Promise<void>;
  private stopping?: Promise<void>;

  private constructor(private readonly container: ContainerHandle) {}

  static of(container: ContainerHandle): HttpRoutes {
    let r = routesOf.get(container);
    if (!r) routesOf.set(container, (r = new HttpRoutes(container)));
    return r;
  }

  register(entrypoint: HttpEntrypoint): void {
    this.entrypoints.push(entrypoint);
  }

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
      for (const e of this.entrypoints) server.rules.add(e.rule, e.methods, e);
    } catch (err) {
      for (const e of this.entrypoints) server.rules.remove(e);
      await server.release(0);
      throw err;
    }
    this.server = server;
    this.container.log.debug("http routes added", {
      url: server.url,
      routes: this.entrypoints.map((e) => `${e.methods.join(",")} ${e.rule.rule}`),
    });
  }

  private async close(graceMs: number): Promise<void> {
    await this.starting?.catch(() => undefined);
    const server = this.server;
    if (!server) return;
    for (const e of this.entrypoints) server.rules.remove(e);
    await server.release(graceMs);
  }
}
