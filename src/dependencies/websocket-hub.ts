import type { ContainerHandle, DependencyProvider } from "../core/extension";
import { registerDependency } from "../core/metadata";
import { WebSocketServer, type WebSocketHub as Hub } from "../entrypoints/websocket";

/**
 * Nameko's WebSocketHubProvider: gives every worker the container's {@link WebSocketHub}, and serves
 * `/ws` even when the service has no `@wsRpc` method (docs/websocket.md, The hub).
 */
export class WebSocketHubProvider implements DependencyProvider {
  private server?: WebSocketServer;

  constructor(readonly attrName: string) {}

  setup(container: ContainerHandle): void {
    this.server = container.shared(WebSocketServer);
  }

  getDependency(): Hub {
    return this.server!.hub;
  }
}

/**
 * Inject the hub of the service's WebSocket endpoint: `@WebSocketHub() hub!: WebSocketHub`, then
 * `this.hub.subscribe(socketId, "room")`, `this.hub.broadcast("room", "message", {...})`.
 */
export function WebSocketHub(): PropertyDecorator {
  return (target, propertyKey) => registerDependency(target, () => new WebSocketHubProvider(String(propertyKey)));
}

/** The hub's interface, under the decorator's name so `@WebSocketHub() hub!: WebSocketHub` reads as one. */
export type WebSocketHub = Hub;
