// Copyright the multiproc authors. MIT license.
/** encode() and decode() of instances of exported classes. */
import assert from "node:assert/strict";
import { decode, decodeSync, encode } from "./codec.ts";
import { CLONE, OPTIONS } from "../tests/_codec.ts";

/** An exported class: its instances cross as instances (constructor calls counted). */
export class ExportedPoint {
  static constructed = 0;
  z = 0;
  constructor(public x: number, public y: number) {
    ExportedPoint.constructed++;
  }
  get length(): number {
    return Math.hypot(this.x, this.y);
  }
  set length(_: number) {
    throw new Error("the setter must not run when an instance is revived");
  }
}

/** Encodes, goes through JSON text, and decodes with decode() (which imports the class's module). */
async function jsonTripAsync<T>(value: T): Promise<T> {
  return await decode(JSON.parse(JSON.stringify(encode(value, OPTIONS)))) as T;
}

Deno.test("encode() revives an instance of an exported class as one of the same class, without its constructor", async () => {
  const p = new ExportedPoint(3, 4);
  Object.defineProperty(p, "length", { value: 7, enumerable: true, writable: true });
  const before = ExportedPoint.constructed;
  const [decoded, again] = await jsonTripAsync([p, p]);
  assert.ok(decoded instanceof ExportedPoint);
  assert.equal(again, decoded);
  assert.deepEqual({ ...decoded }, { z: 0, x: 3, y: 4, length: 7 });
  const cloned = await decode(structuredClone(encode({ p }, CLONE))) as { p: ExportedPoint };
  assert.ok(cloned.p instanceof ExportedPoint);
  assert.equal(new ExportedPoint(6, 8).length, 10);
  assert.equal(ExportedPoint.constructed, before + 1);
  assert.deepEqual(encode(p, OPTIONS).m, [import.meta.url]);
});

Deno.test("decodeSync() refuses an instance whose class module decode() has not imported", () => {
  const enc = encode(new ExportedPoint(1, 2), OPTIONS);
  const tree = {
    ...enc,
    v: { ...(enc.v as object), r: { module: "file:///elsewhere.ts", export: "P", hash: 0 } },
  };
  assert.throws(() => decodeSync(tree), {
    message:
      'Cannot decode an instance of class "P" as its module file:///elsewhere.ts is not imported: use decode()',
  });
});

Deno.test("decode() refuses an instance whose exported class is not the sender's (its source differs)", async () => {
  const enc = encode(new ExportedPoint(1, 2), OPTIONS);
  const node = enc.v as { r: { hash: number } };
  node.r.hash = (node.r.hash + 1) >>> 0;
  await assert.rejects(decode(enc), {
    name: "TypeError",
    message:
      `Cannot decode an instance of class "ExportedPoint" as export "ExportedPoint" of ${import.meta.url} is not the class the sender named (its source differs): give it a unique name, or pass { module, export } explicitly`,
  });
});
