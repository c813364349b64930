import { equal } from "node:assert/strict";
import {
  CRASH_WINDOW_MS,
  FIRST_DELAY_MS,
  FREE_RESTARTS,
  MAX_DELAY_MS,
  RestartBackoff,
} from "./_restart_backoff.ts";

Deno.test("RestartBackoff restarts a crashed child at once, even one that crashes right after starting", () => {
  const backoff = new RestartBackoff();
  for (let i = 0; i < FREE_RESTARTS; i++) equal(backoff.next(0, 1000 + i), 0);
});

Deno.test("RestartBackoff doubles the wait for a slot that keeps crashing, up to the maximum", () => {
  const backoff = new RestartBackoff();
  let now = 0;
  for (let i = 0; i < FREE_RESTARTS; i++) backoff.next(0, now++);
  equal(backoff.next(0, now++), FIRST_DELAY_MS);
  equal(backoff.next(0, now++), FIRST_DELAY_MS * 2);
  equal(backoff.next(0, now++), FIRST_DELAY_MS * 4);
  for (let i = 0; i < 20; i++) backoff.next(0, now++);
  equal(backoff.next(0, now++), MAX_DELAY_MS);
});

Deno.test("RestartBackoff keeps slots apart and forgets crashes after a healthy period", () => {
  const backoff = new RestartBackoff();
  for (let i = 0; i <= FREE_RESTARTS; i++) backoff.next(0, i);
  equal(backoff.next(1, FREE_RESTARTS + 1), 0, "another slot is restarted at once");
  equal(
    backoff.next(0, FREE_RESTARTS + CRASH_WINDOW_MS + 1),
    0,
    "after a quiet window, at once again",
  );
});
