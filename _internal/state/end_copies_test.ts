import { equal } from "node:assert/strict";
import { EndCopies } from "./end_copies.ts";

Deno.test("EndCopies: open while a copy is held; each release drops one of its holder's", () => {
  const c = new EndCopies();
  c.hold(1);
  c.hold(1);
  equal(c.count, 2);
  equal(c.release(1), true);
  equal(c.release(1), false);
  equal(c.open, false);
  equal(c.release(1), false); // Nothing held: nothing to drop, still closed.
});

Deno.test("EndCopies: a lent copy keeps the end open until adopted and released; a move gives the lender's up", () => {
  const c = new EndCopies();
  c.hold(1);
  equal(c.lend(1, "t", true), true); // The creator's copy goes to the child.
  equal(c.count, 1);
  equal(c.release(1), true); // The creator closes its (moved) copy: nothing changes.
  c.adopt(2, "t");
  equal(c.count, 1);
  equal(c.release(2), false);
});

Deno.test("EndCopies: a lend that does not move adds a copy; adopting before the lend is recorded counts once", () => {
  const c = new EndCopies();
  c.hold(1);
  c.lend(1, "a", true);
  c.lend(1, "b", false); // Handed on again: a second copy.
  equal(c.count, 2);
  c.adopt(3, "c"); // Its lend is still on its way.
  equal(c.count, 3);
  equal(c.lend(1, "c", false), true);
  equal(c.count, 3);
  c.adopt(2, "a");
  c.adopt(4, "b");
  equal(c.release(2), true);
  equal(c.release(4), true);
  equal(c.release(3), false);
});

Deno.test("EndCopies: a session that ends drops its copies and its loans not adopted", () => {
  const c = new EndCopies();
  c.hold(1);
  c.hold(2);
  c.lend(2, "x", false);
  equal(c.leave(2), true); // Its copy and its loan go; the first session's copy is left.
  equal(c.count, 1);
  c.adopt(3, "x"); // Too late: counted as its own copy, once.
  equal(c.leave(1), true);
  equal(c.leave(3), false);
});

Deno.test("EndCopies: a loan whose receiver died before adopting it lapses; an adopted one does not", () => {
  const c = new EndCopies();
  c.hold(1);
  c.lend(1, "dead", true); // The creator's copy goes to a child that dies first.
  c.lend(1, "alive", false); // A second child adopts its copy.
  c.adopt(2, "alive");
  equal(c.lapse("alive"), undefined); // Adopted: nothing lapses.
  equal(c.count, 2);
  equal(c.lapse("dead"), true); // The second child's copy keeps the end open.
  equal(c.lapse("dead"), undefined);
  equal(c.release(2), false);
  const d = new EndCopies();
  d.hold(1);
  d.lend(1, "only", true);
  equal(d.lapse("only"), false); // The only copy lapsed: the end closes.
});
