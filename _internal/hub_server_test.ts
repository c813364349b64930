/** The hub's handling of requests, with no socket: replies are collected as the session sends them. */
import { deepStrictEqual, match, ok } from "node:assert/strict";
import { HubServer } from "./hub_server.ts";
import { priorityKey, withKey } from "./priority_key.ts";
import type { Reply, Request } from "./protocol.ts";
import type { SharedFile } from "./runtime.ts";

/** A status file that keeps nothing. */
const status: SharedFile = {
  read: () => {},
  write: () => {},
  tryLock: () => true,
  lock: () => Promise.resolve(),
  unlock: () => {},
  close: () => {},
};

/** A hub with an unbounded queue 1, and a session that collects its replies. */
function queueSession(): { handle(requests: Request[]): Promise<Reply[]> } {
  const hub = new HubServer(status);
  let replies: Reply[] = [];
  const session = hub.session((batch) => replies.push(...batch));
  session.handle([
    { id: 0, op: "attach", obj: 1, args: ["queue", { maxsize: 0, joinable: false }] },
  ]);
  return {
    async handle(requests) {
      session.handle(requests);
      // Replies leave in a microtask, once the requests of the batch are handled.
      await new Promise((resolve) => setTimeout(resolve, 0));
      const got = replies;
      replies = [];
      return got;
    },
  };
}

Deno.test("HubServer: a fetch ahead of an empty queue is answered with no items, not an Empty error", async () => {
  const s = queueSession();
  const fetchAhead: Request = { id: 7, op: "queue.getMany", obj: 1, args: [16, true], timeout: 0 };
  deepStrictEqual(await s.handle([fetchAhead]), [{ id: 7, result: [] }]);
  const item = new Uint8Array([1, 2, 3]);
  deepStrictEqual(
    await s.handle([{ id: 0, op: "queue.putMany", obj: 1, args: [[item]] }, {
      ...fetchAhead,
      id: 8,
    }]),
    [{ id: 8, result: [item] }],
  );
  // A get that does not fetch ahead still says the queue is empty.
  const [reply] = await s.handle([{ id: 9, op: "queue.getMany", obj: 1, args: [16], timeout: 0 }]);
  deepStrictEqual("error" in reply && reply.error.name, "Empty");
});

Deno.test("HubServer: a priority queue hands out items by their keys, and a queue order it does not know is refused", async () => {
  const hub = new HubServer(status);
  const replies: Reply[] = [];
  const session = hub.session((batch) => replies.push(...batch));
  const item = (entry: [number, string]) => withKey(priorityKey(entry), new Uint8Array([entry[0]]));
  session.handle([
    {
      id: 0,
      op: "attach",
      obj: 1,
      args: ["queue", { maxsize: 0, joinable: false, order: "priority" }],
    },
    {
      id: 0,
      op: "queue.putMany",
      obj: 1,
      args: [[item([3, "c"]), item([1, "a"]), item([2, "b"])]],
    },
    { id: 5, op: "queue.getMany", obj: 1, args: [3], timeout: 0 },
    {
      id: 0,
      op: "attach",
      obj: 2,
      args: ["queue", { maxsize: 0, joinable: false, order: "sideways" }],
    },
    { id: 6, op: "queue.getMany", obj: 2, args: [1], timeout: 0 },
  ]);
  await new Promise((resolve) => setTimeout(resolve, 0));
  deepStrictEqual(replies.find((r) => r.id === 5), {
    id: 5,
    result: [item([1, "a"]), item([2, "b"]), item([3, "c"])],
  });
  const refused = replies.find((r) => r.id === 6);
  ok(refused && "error" in refused, JSON.stringify(refused));
  // The attach failed, so the queue does not exist.
  match(refused.error.message, /Unknown object 2: it was never created/);
});
