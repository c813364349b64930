/**
 * `connect()`: the entry point of the Redis-backed primitives.
 *
 * @module
 */

import type { ElementOf, Typecode } from "../sync/value.ts";
import { checkUrl, type Core, redact, sharedCore } from "./_core.ts";
import type { RemoteOrigin } from "./_object.ts";
import { RemoteEvent } from "./event.ts";
import { RemoteJoinableQueue, type RemoteJoinableQueueOptions } from "./joinable_queue.ts";
import { type RemoteLeaseOptions, RemoteLock } from "./lock.ts";
import { RemoteQueue, type RemoteQueueOptions } from "./queue.ts";
import { RemoteRLock } from "./rlock.ts";
import { RemoteSemaphore } from "./semaphore.ts";
import { RemoteValue } from "./value.ts";

/**
 * Options of {@linkcode connect}.
 *
 * @example
 * ```ts
 * import type { ConnectOptions } from "@multiproc/multiproc/redis";
 *
 * const options: ConnectOptions = { namespace: "shop" };
 * console.assert(options.namespace === "shop");
 * ```
 */
export interface ConnectOptions {
  /**
   * Prefix of every key (`mp:<namespace>:…`), so that applications (or
   * test runs) sharing a server do not see each other's objects.
   *
   * @default {"default"}
   */
  namespace?: string;
}

/**
 * A connection to a Redis server, from which named remote objects are
 * opened. Every process (on any host) that opens the same name in the same
 * namespace gets the same object.
 *
 * - Created by {@linkcode connect}; `await using` closes it (or call
 *   {@linkcode Remote.close}).
 * - Objects opened from it can be passed to a `Process` or `Thread`: the child
 *   opens its own connection to the same server with the same URL
 *   (credentials included, carried by the control channel, never by argv or
 *   the environment).
 *
 * @example
 * ```ts ignore
 * import { connect } from "@multiproc/multiproc/redis";
 *
 * await using remote = await connect("redis://127.0.0.1:6379/0", { namespace: "shop" });
 * const orders = await remote.joinableQueue<{ id: number }>("orders");
 * await orders.put({ id: 1 });
 * ```
 */
export class Remote implements RemoteOrigin, AsyncDisposable {
  readonly #core: Core;
  readonly #url: string;
  readonly #namespace: string;

  /**
   * Use {@linkcode connect}, which also checks that the server answers.
   *
   * @param url The server's URL.
   * @param namespace The key prefix.
   */
  constructor(url: string, namespace: string) {
    checkUrl(url);
    if (typeof namespace !== "string" || namespace === "" || /[\s{}:]/.test(namespace)) {
      throw new TypeError(
        `Cannot connect to Redis as the namespace must be a non-empty string without spaces, ` +
          `colons or braces: received ${
            typeof namespace === "string" ? JSON.stringify(namespace) : typeof namespace
          }`,
      );
    }
    this.#url = url;
    this.#namespace = namespace;
    this.#core = sharedCore(url, namespace);
    this.#core.retain();
  }

  #closed = false;

  /**
   * The server's URL, credentials included (objects opened from this
   * connection hand it to children); `toString()` hides the password.
   */
  get url(): string {
    return this.#url;
  }

  /** The namespace. */
  get namespace(): string {
    return this.#namespace;
  }

  /** The URL with its password replaced by `***` (for logs). */
  toString(): string {
    return `Remote(${redact(this.#url)}, namespace ${this.#namespace})`;
  }

  /**
   * Checks that the server answers.
   *
   * @returns Resolves once it has answered a `PING`.
   * @throws {Error} If it cannot be reached.
   */
  async ping(): Promise<void> {
    await this.#core.call(`reach Redis at ${redact(this.#url)}`, ["PING"]);
  }

  /**
   * Opens the queue `name` (creating it if needed).
   *
   * @param name Its name.
   * @param options `maxsize`: the same in every process.
   * @returns The queue, once open.
   * @throws {Error} If it exists with another `maxsize`.
   */
  async queue<T = unknown>(
    name: string,
    options: RemoteQueueOptions = {},
  ): Promise<RemoteQueue<T>> {
    const q = new RemoteQueue<T>(this, name, options);
    await q.ready();
    return q;
  }

  /**
   * Opens the joinable queue `name` (creating it if needed).
   *
   * @param name Its name.
   * @param options `maxsize`, `leaseMs`, `maxDeliveries`.
   * @returns The queue, once open.
   * @throws {Error} If it exists with other options.
   */
  async joinableQueue<T = unknown>(
    name: string,
    options: RemoteJoinableQueueOptions = {},
  ): Promise<RemoteJoinableQueue<T>> {
    const q = new RemoteJoinableQueue<T>(this, name, options);
    await q.ready();
    return q;
  }

  /**
   * Opens the lock `name`.
   *
   * @param name Its name.
   * @param options `leaseMs`.
   * @returns The lock, once open.
   */
  async lock(
    name: string,
    options: RemoteLeaseOptions = {},
  ): Promise<RemoteLock> {
    const lock = new RemoteLock(this, name, options);
    await lock.ready();
    return lock;
  }

  /**
   * Opens the reentrant lock `name`.
   *
   * @param name Its name.
   * @param options `leaseMs`.
   * @returns The lock, once open.
   */
  async rlock(
    name: string,
    options: RemoteLeaseOptions = {},
  ): Promise<RemoteRLock> {
    const lock = new RemoteRLock(this, name, options);
    await lock.ready();
    return lock;
  }

  /**
   * Opens the semaphore `name`, created with `value` permits.
   *
   * @param name Its name.
   * @param value Initial permits: the same in every process.
   * @param options `leaseMs`.
   * @returns The semaphore, once open.
   * @throws {Error} If it exists with another initial value.
   */
  async semaphore(
    name: string,
    value = 1,
    options: RemoteLeaseOptions = {},
  ): Promise<RemoteSemaphore> {
    const sem = new RemoteSemaphore(this, name, value, options);
    await sem.ready();
    return sem;
  }

  /**
   * Opens the event `name`.
   *
   * @param name Its name.
   * @returns The event, once open.
   */
  async event(name: string): Promise<RemoteEvent> {
    const ev = new RemoteEvent(this, name);
    await ev.ready();
    return ev;
  }

  /**
   * Opens the value `name`; the first opener sets it to `initial`.
   *
   * @param name Its name.
   * @param typecode The element type, e.g. `"i"`: the same in every process.
   * @param initial The value it starts with, if it does not exist yet.
   * @returns The value, once open.
   * @throws {Error} If it exists with another typecode.
   */
  async value<T extends Typecode>(
    name: string,
    typecode: T,
    initial?: ElementOf<T>,
  ): Promise<RemoteValue<T>> {
    const v = new RemoteValue<T>(this, name, typecode, initial);
    await v.ready();
    return v;
  }

  /**
   * Waits for the writes nobody awaited (`set()`, `release()`, `taskDone()`…)
   * and closes the connections, once every `connect()` of this process to
   * the same URL and namespace (they share the connections) is closed.
   * Objects opened from it (in this process) then stop working. A second
   * close is harmless.
   *
   * @returns Resolves when closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#core.release();
  }

  /** For `await using`: {@linkcode Remote.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Connects to a Redis server (Redis ≥ 6.2 or Valkey) for remote objects.
 *
 * @param url `redis://[[user]:password@]host[:port][/db]`, or `rediss://…` for TLS.
 * @param options The namespace.
 * @returns The connection, once the server has answered.
 * @throws {TypeError} If the URL is not a redis:// or rediss:// URL.
 * @throws {Error} If the server cannot be reached.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@multiproc/multiproc/redis";
 *
 * await using remote = await connect("redis://127.0.0.1:6379/0", { namespace: "demo" });
 * const done = await remote.event("done");
 * done.set();
 * ```
 */
export async function connect(
  url: string,
  options: ConnectOptions = {},
): Promise<Remote> {
  const remote = new Remote(url, options.namespace ?? "default");
  await remote.ping();
  return remote;
}
