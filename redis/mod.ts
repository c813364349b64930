/**
 * The same `Queue`, `JoinableQueue`, `Lock`, `RLock`, `Semaphore`, `Event` and
 * `Value` across machines, kept in Redis (≥ 6.2, or Valkey) through the
 * official client `redis` (node-redis), pinned. Not re-exported by the main
 * entry point, which stays free of dependencies.
 *
 * Each remote class has the methods, options, errors and async iteration of
 * its local twin; the interfaces they share ({@linkcode QueueLike},
 * {@linkcode JoinableQueueLike}, {@linkcode LockLike}, {@linkcode RLockLike},
 * {@linkcode SemaphoreLike}, {@linkcode EventLike}, {@linkcode ValueLike})
 * let code run on either. Remote objects pass to a `Process` or `Thread` in
 * `args` like local ones: the child connects to the same server.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@multiproc/multiproc/redis";
 *
 * await using remote = await connect("redis://127.0.0.1:6379/0", { namespace: "shop" });
 * const orders = await remote.joinableQueue<string>("orders");
 * await orders.put("order 1");
 * console.log(await orders.get());
 * orders.taskDone();
 * await orders.join();
 * ```
 *
 * @module
 */

export { connect, type ConnectOptions, Remote } from "./remote.ts";
export type { RemoteOrigin } from "./_object.ts";
export { Empty, Full, QueueClosed, RemoteQueue, type RemoteQueueOptions } from "./queue.ts";
export {
  type RemoteDelivery,
  RemoteJoinableQueue,
  type RemoteJoinableQueueOptions,
} from "./joinable_queue.ts";
export { type RemoteLeaseOptions, RemoteLock } from "./lock.ts";
export { RemoteRLock } from "./rlock.ts";
export { RemoteSemaphore } from "./semaphore.ts";
export { RemoteEvent } from "./event.ts";
export { RemoteValue } from "./value.ts";
export type {
  BlockingOptions,
  EventLike,
  JoinableQueueLike,
  LockLike,
  QueueLike,
  RLockLike,
  SemaphoreLike,
  ValueLike,
} from "./types.ts";
export {
  type HandleData,
  registerReviver,
  reviveHandle,
  type Shareable,
  toHandle,
} from "../sync/shareable.ts";
export type { WaitOptions } from "../sync/wait_options.ts";
export type { ElementOf, Typecode } from "../sync/value.ts";
