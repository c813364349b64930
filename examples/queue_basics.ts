#!/usr/bin/env -S deno run --allow-read --allow-write
/**
 * Seed section "队列的使用" (using a queue): a Queue is first in, first
 * out. `new Queue(3)` holds at most three items (small messages, not
 * large data). Once it is full, a non-blocking put raises `Full`; once it
 * is empty, a non-blocking get raises `Empty`. The seed notes that a
 * fourth plain `get()` would wait forever; here `get({ timeout })` gives
 * up with `Empty` instead.
 */
import { Empty, Full, Queue } from "../mod.ts";

if (import.meta.main) {
  const q = new Queue(3);
  await q.put("hello");
  await q.put({ a: 1 });
  await q.put([1, 2, 3, 4]);
  console.log(`full(): ${q.full()}`);
  try {
    await q.putNowait(4);
  } catch (error) {
    console.log(`putNowait(4) on a full queue: ${error instanceof Full ? "Full" : error}`);
  }

  console.log(await q.get());
  console.log(await q.get());
  console.log(await q.get());
  console.log(`empty(): ${q.empty()}`);

  try {
    await q.getNowait();
  } catch (error) {
    console.log(`getNowait() on an empty queue: ${error instanceof Empty ? "Empty" : error}`);
  }
  try {
    await q.get({ timeout: 200 }); // a plain get() would block forever
  } catch (error) {
    console.log(
      `get({ timeout: 200 }) on an empty queue: ${error instanceof Empty ? "Empty" : error}`,
    );
  }
}
