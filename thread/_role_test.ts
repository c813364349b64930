import { equal, rejects, throws } from "node:assert/strict";
import { mainThread } from "./main_thread.ts";
import { Thread } from "./thread.ts";

// Never started here (no worker runs), so it need not be exported.
const noop = () => {};

Deno.test("A thread not started yet is initial: its daemon flag may change and await using does not wait", async () => {
  const t = new Thread({ target: noop, name: "later" });
  equal(t.ident, null);
  equal(t.isAlive(), false);
  equal(String(t), "<Thread(later, initial null)>");
  t.daemon = true;
  equal(String(t), "<Thread(later, initial daemon null)>");
  await t[Symbol.asyncDispose]();
  await rejects(t.join(), { message: 'Cannot join thread "later" before it is started' });
});

Deno.test("The main thread is described, not started here: it runs, and cannot be started, joined or made daemonic", async () => {
  const main = mainThread();
  equal(main.isAlive(), true);
  equal(String(main), "<Thread(MainThread, started 1)>");
  throws(() => main.start(), {
    message: 'Cannot start thread "MainThread" as it is already running',
  });
  await rejects(main.join(), { message: "Cannot join current thread" });
  throws(() => (main.daemon = true), {
    message: 'Cannot set daemon status of thread "MainThread" as it has already started',
  });
  await main[Symbol.asyncDispose](); // nothing to wait for
  main.name = "Renamed";
  try {
    throws(() => main.start(), {
      message: 'Cannot start thread "Renamed" as it is already running',
    });
  } finally {
    main.name = "MainThread";
  }
});
