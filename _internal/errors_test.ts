// Copyright the multiproc authors. MIT license.
import assert from "node:assert/strict";
import { BrokenBarrierError, Empty, errorByName, Full, QueueClosed } from "./errors.ts";

Deno.test("errors have their class name and accept a cause", () => {
  const cause = new Error("inner");
  for (const Class of [Empty, Full, BrokenBarrierError, QueueClosed]) {
    const error = new Class("message", { cause });
    assert.ok(error instanceof Error);
    assert.equal(error.name, Class.name);
    assert.equal(error.message, "message");
    assert.equal(error.cause, cause);
  }
});

Deno.test("errorByName() rebuilds library, built-in and abort errors", () => {
  for (
    const Class of [Empty, Full, BrokenBarrierError, QueueClosed, TypeError, RangeError, Error]
  ) {
    const error = errorByName(Class.name, "m");
    assert.ok(error instanceof Class);
    assert.equal(error.name, Class.name);
    assert.equal(error.message, "m");
  }
  const abort = errorByName("AbortError", "a");
  assert.ok(abort instanceof DOMException);
  assert.equal(abort.name, "AbortError");
  const custom = errorByName("ValueError", "v");
  assert.equal(custom.constructor, Error);
  assert.equal(custom.name, "ValueError");
  assert.equal(custom.message, "v");
});
