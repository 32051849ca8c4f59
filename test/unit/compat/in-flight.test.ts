import { InFlight } from "../../../compat/in-flight";

/** Resolves to whether `p` settled within the current microtask queue. */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

describe("InFlight", () => {
  it("counts enter and leave", () => {
    const f = new InFlight();
    expect(f.count).toBe(0);
    f.enter();
    f.enter();
    expect(f.count).toBe(2);
    f.leave();
    expect(f.count).toBe(1);
  });

  it("idle() resolves at once when nothing is in flight", async () => {
    expect(await settled(new InFlight().idle())).toBe(true);
  });

  it("idle() waits for the last leave and wakes every waiter", async () => {
    const f = new InFlight();
    f.enter();
    f.enter();
    const a = f.idle();
    const b = f.idle();
    f.leave();
    expect(await settled(a)).toBe(false);
    f.leave();
    expect(await settled(a)).toBe(true);
    expect(await settled(b)).toBe(true);
  });

  it("waiters of a past idle period are not woken again; new ones wait for the next", async () => {
    const f = new InFlight();
    f.enter();
    let woken = 0;
    void f.idle().then(() => woken++);
    f.leave();
    await settled(Promise.resolve());
    f.enter();
    const next = f.idle();
    f.enter();
    f.leave();
    expect(await settled(next)).toBe(false);
    f.leave();
    expect(await settled(next)).toBe(true);
    expect(woken).toBe(1);
  });

  it("track() counts the work until it settles, also when it fails, and passes its outcome on", async () => {
    const f = new InFlight();
    let finish!: (value: string) => void;
    const ok = f.track(() => new Promise<string>((resolve) => (finish = resolve)));
    const failed = f.track(() => Promise.reject(new Error("boom")));
    expect(f.count).toBe(2);
    await expect(failed).rejects.toThrow("boom");
    expect(f.count).toBe(1);
    const idle = f.idle();
    expect(await settled(idle)).toBe(false);
    finish("done");
    await expect(ok).resolves.toBe("done");
    expect(f.count).toBe(0);
    expect(await settled(idle)).toBe(true);
  });
});
