// Copyright the multiproc authors. MIT license.
/** errorToData() and errorFromData(): errors as JSON-compatible data. */
import assert from "node:assert/strict";
import { errorFromData, errorToData, type HandleData } from "./codec.ts";
import { FakeLock } from "../tests/_codec.ts";

Deno.test("errorToData() describes an error as JSON-compatible data", () => {
  const error = new TypeError("bad", { cause: { code: 7 } });
  const data = errorToData(error);
  assert.equal(data.name, "TypeError");
  assert.equal(data.message, "bad");
  assert.equal(data.stack, error.stack);
  assert.deepEqual(JSON.parse(JSON.stringify(data)), data);

  const revived = errorFromData(JSON.parse(JSON.stringify(data)));
  assert.ok(revived instanceof TypeError);
  assert.equal(revived.message, "bad");
  assert.equal(revived.stack, error.stack);
  assert.deepEqual(revived.cause, { code: 7 });
});

Deno.test("errorFromData() sets the name of an error that is not built in", () => {
  const revived = errorFromData({
    name: "QueueFull",
    message: "full",
    stack: "QueueFull: full\n at x",
  });
  assert.equal(Object.getPrototypeOf(revived), Error.prototype);
  assert.equal(revived.name, "QueueFull");
  assert.equal(revived.stack, "QueueFull: full\n at x");
  assert.equal(errorFromData({ name: "RangeError", message: "r" }).stack, "RangeError: r");
  assert.ok(errorFromData({ name: "RangeError", message: "r" }) instanceof RangeError);
});

Deno.test("errorToData() describes thrown values that are not errors", () => {
  assert.deepEqual(errorToData("boom"), { name: "Error", message: "boom" });
  assert.deepEqual(errorToData(42), { name: "Error", message: "42" });
  assert.deepEqual(errorToData(Object.create(null)), {
    name: "Error",
    message: "[object Object]",
  });
});

Deno.test("errorToData() replaces a cause that cannot be serialized by its description", () => {
  const data = errorToData(new Error("outer", { cause: Symbol("why") }));
  assert.equal(data.cause, "Symbol(why)");
  assert.equal(errorFromData(data).cause, "Symbol(why)");
});

Deno.test("errorFromData() drops a cause it cannot decode", () => {
  const data = errorToData(new Error("outer", { cause: new FakeLock("gone") }));
  (data.cause as { v: HandleData }).v.kind = "test.unregistered";
  const revived = errorFromData(data);
  assert.equal(revived.message, "outer");
  assert.ok(!("cause" in revived));
});
