# The Nameko original of greeting-service.ts (reference only; never executed in CI).
from nameko.rpc import rpc, RpcProxy


class GreetingService:
    name = "greeting_service"

    users = RpcProxy("user_service")

    @rpc
    def hello(self, name, punctuation="!"):
        return "Hello, {}{}".format(name, punctuation)

    @rpc
    def greet_user(self, user_id):
        user = self.users.get_user(user_id)
        return self.hello(user["name"])

    @rpc
    def welcome(self, name, language="en"):
        # Nameko has no DTOs: the port validates these kwargs with class-validator.
        if not name:
            raise ValueError("name must not be empty")
        greeting = {"en": "Welcome", "fr": "Bienvenue"}[language]
        return "{}, {}".format(greeting, name)
