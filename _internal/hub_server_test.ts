/** The hub's handling of requests, with no socket: replies are collected as the session sends them. */
import { deepStrictEqual } from "node:assert/strict";
import { HubServer } from "./hub_server.ts";
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
