// A TypeScript service on NATS that reacts to an event of a Nameko service and dispatches its own,
// so the demo shows events crossing the bridge both ways. Imports only the public entry.
import { Context, EventDispatcher, eventHandler, type Dispatch, type WorkerContext } from "cliffracer";

/** The payload `user_service` dispatches (see user_service.py). */
export interface UserCreated {
  id: number;
  name: string;
}

/** Called for every handled event, so the demo can print it; a plain service would just work. */
export const welcomerHooks: { onUserCreated?: (user: UserCreated, ctx: WorkerContext) => void } = {};

export class WelcomerService {
  name = "welcomer";

  @EventDispatcher() dispatch!: Dispatch;
  @Context() ctx!: WorkerContext;

  @eventHandler("user_service", "user_created")
  async onUserCreated(user: UserCreated): Promise<void> {
    welcomerHooks.onUserCreated?.(user, this.ctx);
    await this.dispatch("welcomed", { user_id: user.id, text: `Welcome aboard, ${user.name}!` });
  }
}
