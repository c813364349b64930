// Copyright the multiproc authors. MIT license.
/** Shareable objects in encode() and decode(): handles and their revivers. */
import assert from "node:assert/strict";
import {
  decode,
  decodeSync,
  encode,
  type Encoded,
  type HandleData,
  type Shareable,
  toHandle,
} from "./codec.ts";
import { FakeLock, jsonTrip, OPTIONS, RevivedLock } from "../tests/_codec.ts";

Deno.test("encode() turns a Shareable into a handle revived by its reviver", () => {
  const lock = new FakeLock("l1");
  const other = new FakeLock("l2", "file:///fake/another.ts");
  const encoded = encode({ lock, again: lock, other }, OPTIONS);
  assert.deepEqual(encoded.m, ["file:///fake/another.ts", "file:///fake/lock.ts"]);
  assert.deepEqual((encoded.v as Record<string, unknown>).lock, {
    $t: "h",
    v: { kind: "test.fake-lock", module: "file:///fake/lock.ts", id: "l1" },
  });
  assert.deepEqual(lock.dests, ["process"]);

  const decoded = decodeSync(JSON.parse(JSON.stringify(encoded))) as Record<string, RevivedLock>;
  assert.ok(decoded.lock instanceof RevivedLock);
  assert.equal(decoded.lock.id, "l1");
  assert.equal(decoded.again, decoded.lock);
  assert.equal(decoded.other.id, "l2");
  assert.equal(encode([1], OPTIONS).m, undefined);
});

Deno.test("encode() checks [toHandle] before anything else", () => {
  class SharedList extends Array implements Shareable {
    [toHandle](): HandleData {
      return { kind: "test.fake-lock", module: "file:///fake/lock.ts", id: "list" };
    }
  }
  const decoded = jsonTrip(new SharedList()) as unknown as RevivedLock;
  assert.ok(decoded instanceof RevivedLock);
});

Deno.test("encode() reports a Shareable that refuses its destination with its path", () => {
  const cause = new Error("a Lock for threads cannot be shared with another process");
  const refusing = {
    [toHandle](): HandleData {
      throw cause;
    },
  };
  assert.throws(() => encode([0, { lock: refusing }], OPTIONS), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.equal(
      e.message,
      'Cannot start process "worker-1" as args[1].lock is not serializable: ' +
        "a Lock for threads cannot be shared with another process",
    );
    assert.equal(e.cause, cause);
    return true;
  });
});

Deno.test("decodeSync() throws a clear error for a handle kind without reviver", () => {
  const enc: Encoded = { v: { $t: "h", v: { kind: "test.unknown", module: "file:///x.ts" } } };
  assert.throws(() => decodeSync(enc), {
    message:
      'Cannot decode a "test.unknown" handle as no reviver is registered for it: import "file:///x.ts" first or use decode()',
  });
});

Deno.test("decodeSync() rejects an unknown tag", () => {
  assert.throws(() => decodeSync({ v: { $t: "nope" } }), {
    name: "TypeError",
    message: 'Cannot decode value as its tag "nope" is unknown',
  });
});

Deno.test("decode() imports each handle module once before decoding", async () => {
  const g = globalThis as { codecTestImports?: number };
  const url = "data:text/javascript,globalThis.codecTestImports=(globalThis.codecTestImports??0)+1";
  const encoded = encode([new FakeLock("l3", url)], OPTIONS);
  assert.deepEqual(encoded.m, [url]);
  const first = (await decode(encoded)) as RevivedLock[];
  const second = (await decode(JSON.parse(JSON.stringify(encoded)))) as RevivedLock[];
  assert.equal(g.codecTestImports, 1);
  assert.equal(first[0].id, "l3");
  assert.equal(second[0].id, "l3");
  assert.equal(await decode({ v: "plain" }), "plain");
});
