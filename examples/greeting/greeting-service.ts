// The TypeScript port of greeting_service.py. Imports only the public entry, like user code.
import { IsIn, IsNotEmpty, IsOptional, IsString } from "class-validator";
import { rpc, RpcProxy, type ServiceProxy } from "cliffracer";

/** The kwargs of `welcome`, validated before the method runs; a failure reaches the caller per field. */
export class WelcomeRequest {
  @IsString()
  @IsNotEmpty()
  name!: string;

  @IsOptional()
  @IsIn(["en", "fr"])
  language?: "en" | "fr";
}

const GREETINGS = { en: "Welcome", fr: "Bienvenue" } as const;

/** What this service calls on user_service: types the proxy's calls (docs/typed-proxies.md). */
export interface UserApi {
  get_user(userId: number): { name: string };
}

export class GreetingService {
  name = "greeting_service";

  @RpcProxy("user_service") users!: ServiceProxy<UserApi>;

  @rpc()
  hello(name: string, punctuation = "!"): string {
    return `Hello, ${name}${punctuation}`;
  }

  // The parameter keeps the Python name: a Python caller may send it by keyword, greet_user(user_id=1).
  @rpc()
  async greet_user(user_id: number): Promise<string> {
    const user = await this.users.get_user(user_id);
    return this.hello(user.name);
  }

  @rpc()
  welcome(request: WelcomeRequest): string {
    return `${GREETINGS[request.language ?? "en"]}, ${request.name}`;
  }
}
