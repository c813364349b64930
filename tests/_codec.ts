// Copyright the multiproc authors. MIT license.
/** What the codec's unit tests (`_internal/codec*_test.ts`) share: options, round trips, refusals. */
import assert from "node:assert/strict";
import {
  decodeSync,
  deserializeSync,
  encode,
  type EncodeOptions,
  type HandleData,
  registerReviver,
  serialize,
  type Shareable,
  toHandle,
} from "../_internal/codec.ts";

export const OPTIONS: EncodeOptions = {
  context: 'Cannot start process "worker-1" as',
  root: "args",
};

export const CLONE: EncodeOptions = { ...OPTIONS, mode: "clone", dest: "thread" };

/** Encodes, goes through JSON text, and decodes. */
export function jsonTrip<T>(value: T): T {
  return deserializeSync(serialize(value, OPTIONS)) as T;
}

/** Encodes in "clone" mode, goes through structured clone, and decodes. */
export function cloneTrip<T>(value: T): T {
  return decodeSync(structuredClone(encode(value, CLONE))) as T;
}

/** Asserts that encoding `value` throws a TypeError with `message`. */
export function assertNotSerializable(value: unknown, message: string, options = OPTIONS): void {
  assert.throws(() => encode(value, options), { name: "TypeError", message });
}

/** A stand-in for a shared primitive, revived from its id. */
export class FakeLock implements Shareable {
  static instances = new Map<string, FakeLock>();
  dests: string[] = [];
  constructor(readonly id: string, readonly module = "file:///fake/lock.ts") {}
  [toHandle](dest: "process" | "thread"): HandleData {
    this.dests.push(dest);
    return { kind: "test.fake-lock", module: this.module, id: this.id };
  }
}

export class RevivedLock {
  constructor(readonly id: string) {}
}

registerReviver("test.fake-lock", (data) => new RevivedLock(data.id as string));
