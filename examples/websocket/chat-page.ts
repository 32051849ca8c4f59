// The browser side of chat-service.ts: a page that speaks Nameko's WebSocket frames
// (docs/websocket.md, Frames). It connects, joins the room named in its URL's fragment (default
// "lobby") and lists every event it receives; `chat.call(method, data)` calls a method.
export const CHAT_PAGE = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>chat</title></head>
<body>
<ul id="log"></ul>
<script>
  const room = decodeURIComponent(location.hash.slice(1)) || "lobby";
  const log = (line) => {
    const item = document.createElement("li");
    item.textContent = line;
    document.getElementById("log").append(item);
  };
  const socket = new WebSocket("ws://" + location.host + "/ws");
  const pending = new Map();
  let lastId = 0;
  const chat = {
    socketId: null,
    call(method, data) {
      const correlationId = String(++lastId);
      socket.send(JSON.stringify({ method, data, correlation_id: correlationId }));
      return new Promise((resolve, reject) => pending.set(correlationId, { resolve, reject }));
    },
  };
  window.chat = chat;
  socket.onmessage = async (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type === "result") {
      const call = pending.get(frame.correlation_id);
      pending.delete(frame.correlation_id);
      if (frame.success) call.resolve(frame.data);
      else call.reject(new Error(frame.error.exc_type + ": " + frame.error.value));
    } else if (frame.event === "connected") {
      chat.socketId = frame.data.socket_id;
      log("connected");
      const rooms = await chat.call("join", { room });
      log("joined " + rooms.join(","));
    } else {
      log(frame.event + " from " + frame.data.from + ": " + frame.data.text);
    }
  };
  socket.onclose = () => log("closed");
</script>
</body>
</html>
`;
