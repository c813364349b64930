// Copyright the multiproc authors. MIT license.
import type { Owner } from "./common.ts";
import assert from "node:assert/strict";
import { Empty } from "../errors.ts";
import { A, assertBlocks, B, reason, track } from "./_helpers_test.ts";
import { Waiters } from "./waiters.ts";

Deno.test("Waiters.wakeFirst() resolves waiters in FIFO order", async () => {
  const waiters = new Waiters<string>();
  const order: string[] = [];
  const first = track(order, "first", waiters.wait({}, () => "timeout"));
  const second = track(order, "second", waiters.wait({}, () => "timeout"));
  assert.equal(waiters.size, 2);
  assert.equal(waiters.wakeFirst("a"), true);
  assert.equal(waiters.wakeFirst("b"), true);
  assert.equal(waiters.wakeFirst("c"), false);
  assert.equal(waiters.size, 0);
  assert.deepEqual(await Promise.all([first, second]), ["a", "b"]);
  assert.deepEqual(order, ["first", "second"]);
});

Deno.test("Waiters.wait() settles with onTimeout() after the timeout and leaves the list", async () => {
  const waiters = new Waiters<string>();
  let sizeInHook = -1;
  const result = await waiters.wait({ timeout: 20 }, () => {
    sizeInHook = waiters.size;
    return "timed out";
  });
  assert.equal(result, "timed out");
  assert.equal(sizeInHook, 0);
  assert.equal(waiters.size, 0);
});

Deno.test("Waiters.wait() rejects with the Error that onTimeout() returns", async () => {
  const waiters = new Waiters<string>();
  await assert.rejects(waiters.wait({ timeout: 20 }, () => new Empty("none")), Empty);
});

Deno.test("Waiters.wait() with a timeout <= 0 settles on the next microtask without waiting", async () => {
  const waiters = new Waiters<string>();
  for (const timeout of [0, -1, NaN]) {
    const promise = waiters.wait({ timeout }, () => "now");
    assert.equal(waiters.size, 0);
    assert.equal(waiters.wakeFirst("woken"), false);
    assert.equal(await promise, "now");
  }
});

Deno.test("Waiters.wait() rejects at once with the reason of an already aborted signal", async () => {
  const waiters = new Waiters<string>();
  const why = reason();
  let timedOut = false;
  const promise = waiters.wait({ signal: AbortSignal.abort(why), timeout: 20 }, () => {
    timedOut = true;
    return "timeout";
  });
  assert.equal(waiters.size, 0);
  await assert.rejects(promise, (error) => error === why);
  assert.equal(timedOut, false);
});

Deno.test("Waiters.wait() rejects with the signal's reason when aborted mid-wait", async () => {
  const waiters = new Waiters<string, Owner>();
  const controller = new AbortController();
  const why = reason();
  let sizeInHook = -1;
  const promise = waiters.wait({ signal: controller.signal, timeout: 10_000 }, () => "timeout", {
    data: A,
    onAbort: () => sizeInHook = waiters.size,
  });
  const other = waiters.wait({}, () => "timeout", { data: B });
  await assertBlocks(promise);
  controller.abort(why);
  await assert.rejects(promise, (error) => error === why);
  assert.equal(sizeInHook, 1);
  assert.equal(waiters.peek(), B);
  waiters.wakeFirst("b");
  assert.equal(await other, "b");
});

Deno.test("Waiters.wait() removes its abort listener and timer once settled", async () => {
  const waiters = new Waiters<string>();
  const controller = new AbortController();
  let listeners = 0;
  const signal = controller.signal;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (...args: Parameters<typeof add>) => {
    listeners++;
    add(...args);
  };
  signal.removeEventListener = (...args: Parameters<typeof remove>) => {
    listeners--;
    remove(...args);
  };
  let aborted = false;
  // The 10 s timer would fail the test's op sanitizer if it were left behind.
  const promise = waiters.wait({ signal, timeout: 10_000 }, () => "timeout", {
    onAbort: () => aborted = true,
  });
  assert.equal(listeners, 1);
  waiters.wakeFirst("woken");
  assert.equal(await promise, "woken");
  assert.equal(listeners, 0);
  controller.abort();
  assert.equal(aborted, false);
});

Deno.test("Waiters.wait() with an infinite or very long timeout does not expire early", async () => {
  const waiters = new Waiters<string>();
  // Beyond 2 ** 31 - 1 ms, a plain setTimeout would fire at once.
  const waits = [Infinity, 2 ** 31 + 5].map((timeout) =>
    waiters.wait({ timeout }, () => "expired")
  );
  await assertBlocks(waits[0]);
  await assertBlocks(waits[1]);
  waiters.wakeAll("woken");
  assert.deepEqual(await Promise.all(waits), ["woken", "woken"]);
});

Deno.test("Waiters.wakeAll() and rejectAll() settle every waiter", async () => {
  const waiters = new Waiters<number>();
  const woken = [waiters.wait({}, () => 0), waiters.wait({ timeout: 10_000 }, () => 0)];
  assert.equal(waiters.wakeAll(7), 2);
  assert.deepEqual(await Promise.all(woken), [7, 7]);
  const rejected = [waiters.wait({}, () => 0), waiters.wait({ timeout: 10_000 }, () => 0)];
  const error = new Error("all");
  assert.equal(waiters.rejectAll(error), 2);
  for (const promise of rejected) await assert.rejects(promise, (e) => e === error);
  assert.equal(waiters.size, 0);
});

Deno.test("Waiters.wakeFirstWhere() wakes the oldest waiter whose data matches", async () => {
  const waiters = new Waiters<string, number>();
  const one = waiters.wait({}, () => "t", { data: 1 });
  const two = waiters.wait({}, () => "t", { data: 2 });
  const three = waiters.wait({}, () => "t", { data: 2 });
  assert.equal(waiters.some((d) => d === 2), true);
  assert.equal(waiters.some((d) => d === 4), false);
  assert.equal(waiters.wakeFirstWhere((d) => d === 2, "two"), true);
  assert.equal(waiters.wakeFirstWhere((d) => d === 4, "four"), false);
  assert.equal(await two, "two");
  assert.equal(waiters.peek(), 1);
  waiters.wakeAll("rest");
  assert.deepEqual(await Promise.all([one, three]), ["rest", "rest"]);
  assert.equal(waiters.peek(), undefined);
});
