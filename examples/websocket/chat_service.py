# The Nameko original of chat-service.ts: WebSocket RPC with channels.
from nameko.exceptions import BadRequest
from nameko.web.websocket import WebSocketHubProvider, rpc


class ChatService:
    name = "chat"

    websocket_hub = WebSocketHubProvider()

    @rpc
    def join(self, socket_id, room):
        self.websocket_hub.subscribe(socket_id, room)
        return self.websocket_hub.get_subscriptions(socket_id)

    @rpc
    def leave(self, socket_id, room):
        self.websocket_hub.unsubscribe(socket_id, room)
        return self.websocket_hub.get_subscriptions(socket_id)

    @rpc
    def say(self, socket_id, room, text):
        if not text:
            raise BadRequest("text must not be empty")
        self.websocket_hub.broadcast(room, "message", {"room": room, "text": text, "from": socket_id})
        return True

    @rpc
    def whisper(self, socket_id, to, text):
        return self.websocket_hub.unicast(to, "whisper", {"text": text, "from": socket_id})
