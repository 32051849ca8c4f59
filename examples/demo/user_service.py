# The Nameko service the demo talks to on RabbitMQ. run-demo.ts plays it with amqp/ so the demo
# needs no Python; with Nameko 2.14 installed you can run the real thing instead:
#
#   cliffracer bridge --nats-service greeting_service --nats-service welcomer --amqp-service user_service
#   cliffracer run examples/greeting/greeting-service.ts examples/demo/welcomer-service.ts
#   nameko run --config examples/demo/config.yaml user_service
#   nameko shell --config examples/demo/config.yaml
#   >>> n.rpc.greeting_service.greet_user(1)       # Python -> bridge -> TypeScript -> bridge -> Python
#   'Hello, Grace Hopper!'
#   >>> n.rpc.user_service.create_user("Hedy Lamarr") # user_created -> bridge -> welcomer (NATS)
#                                                     # -> welcomed -> bridge -> on_welcomed (here)
from nameko.events import EventDispatcher, event_handler
from nameko.rpc import rpc

USERS = {1: {"id": 1, "name": "Grace Hopper"}, 2: {"id": 2, "name": "Ada Lovelace"}}


class UserService:
    name = "user_service"

    dispatch = EventDispatcher()

    @rpc
    def get_user(self, user_id):
        return USERS[user_id]

    @rpc
    def create_user(self, name):
        user = {"id": len(USERS) + 1, "name": name}
        USERS[user["id"]] = user
        self.dispatch("user_created", user)
        return user

    @event_handler("welcomer", "welcomed")
    def on_welcomed(self, payload):
        print("welcomed:", payload["text"])
