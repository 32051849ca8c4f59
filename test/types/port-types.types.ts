// Type tests of `cliffracer types` output (docs/porting.md, The types command): a caller typed by the
// interface generated from test/fixtures/port/typed_service.py. Checked by `npm run test:types`, never
// run; test/unit/port/golden.test.ts keeps generated/typed_service.api.ts equal to the command's output.
import { expectTypeOf } from "expect-type";
import { kwargs, RpcProxy, rpc, type ServiceProxy } from "cliffracer";
import type { DirectoryApi, ResidentSchema, User } from "./generated/typed_service.api";

declare const directory: ServiceProxy<DirectoryApi>;

// Results are the hints' types: dataclasses and schemas as interfaces.
expectTypeOf(directory.get_user(1)).toEqualTypeOf<Promise<User>>();
expectTypeOf(directory.find("ada")).toEqualTypeOf<Promise<User[]>>();
expectTypeOf(directory.tags()).toEqualTypeOf<Promise<Record<string, string[]>>>();
expectTypeOf(directory.lookup(1)).toEqualTypeOf<Promise<string | null>>();
expectTypeOf(directory.scores({ a: 1 }, "x")).toEqualTypeOf<Promise<[number, string]>>();
expectTypeOf<User>().toEqualTypeOf<{ id: number; name: string; email: string | null }>();
expectTypeOf<ResidentSchema>().toEqualTypeOf<{ name: string; age?: number }>();

// The calls Python accepts compile: by position, by keyword, keyword-only by keyword only.
void directory.get_user(kwargs({ user_id: 1 }));
void directory.find("ada", kwargs({ exact: true, limit: 5 }));
void directory.find(kwargs({ name: "ada", limit: null }));
void directory.lookup("k", "fallback");
void directory.lookup("k", kwargs({ default: 0 }));
void directory.address(7).then((a) => a.residents?.map((r) => r.name));

// Wrong calls do not.
// @ts-expect-error user_id is an int
void directory.get_user("1");
// @ts-expect-error get_user takes one argument
void directory.get_user(1, 2);
// @ts-expect-error no such method
void directory.get_users(1);
// @ts-expect-error 'limt' is not a keyword of find
void directory.find("ada", kwargs({ limt: 5 }));
// @ts-expect-error exact is keyword-only
void directory.find("ada", true);
// @ts-expect-error name is required
void directory.find(kwargs({ exact: true }));

/** A TypeScript service calling the Python one through the generated interface. */
export class Reports {
  name = "reports";
  @RpcProxy("directory") directory!: ServiceProxy<DirectoryApi>;

  @rpc()
  async userName(id: number): Promise<string> {
    return (await this.directory.get_user(id)).name;
  }
}
