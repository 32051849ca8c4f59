// The port of chat_service.py: WebSocket RPC on /ws with channels, and the page that uses it on /.
import { BadRequest, http, WebSocketHub, wsRpc, type HttpResult } from "cliffracer";
import { CHAT_PAGE } from "./chat-page";

export class ChatService {
  name = "chat";

  @WebSocketHub() hub!: WebSocketHub;

  @http("GET", "/")
  page(): HttpResult {
    return [200, { "Content-Type": "text/html; charset=utf-8" }, CHAT_PAGE];
  }

  @wsRpc()
  join(socketId: string, room: string): string[] {
    this.hub.subscribe(socketId, room);
    return this.hub.getSubscriptions(socketId);
  }

  @wsRpc()
  leave(socketId: string, room: string): string[] {
    this.hub.unsubscribe(socketId, room);
    return this.hub.getSubscriptions(socketId);
  }

  @wsRpc()
  say(socketId: string, room: string, text: string): boolean {
    if (!text) throw new BadRequest("text must not be empty");
    this.hub.broadcast(room, "message", { room, text, from: socketId });
    return true;
  }

  @wsRpc()
  whisper(socketId: string, to: string, text: string): boolean {
    return this.hub.unicast(to, "whisper", { text, from: socketId });
  }
}
