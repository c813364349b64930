/**
 * The connections to one Redis server for one namespace, shared by every
 * remote object of a process: a command connection, a subscriber connection
 * (state mirrors) and a small pool of connections for blocking commands.
 *
 * - The only file that imports the Redis client. It is pinned by a full
 *   `npm:` specifier (not a bare name in an import map) so that child
 *   processes, threads and importers by URL resolve the same version without
 *   the project's configuration.
 * - Sockets are unreferenced while no command is in flight: an object
 *   revived in a child never keeps that child alive after its target returns.
 * - Commands are not queued while the connection is down (`disableOfflineQueue`):
 *   they fail at once with an error naming the operation, instead of waiting
 *   for a server that may never come back.
 *
 * @module
 */

import { createClient } from "npm:redis@6.3.1";
import { createHash, randomUUID } from "node:crypto";
import { beforeGoodbye } from "../_internal/hub_client.ts";

type Client = ReturnType<typeof createClient>;

/** A Lua script, run by its SHA1 (loaded again after a server restart). */
export class Script {
  /** The SHA1 of the body, for `EVALSHA`. */
  readonly sha: string;
  /**
   * @param body The Lua source.
   */
  constructor(readonly body: string) {
    this.sha = createHash("sha1").update(body).digest("hex");
  }
}

/** Replaces the password of a Redis URL for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(an invalid URL)";
  }
}

/** Checks a connection URL, with an error saying what is expected. */
export function checkUrl(url: unknown): asserts url is string {
  let ok = false;
  if (typeof url === "string") {
    try {
      ok = ["redis:", "rediss:"].includes(new URL(url).protocol);
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    throw new TypeError(
      `Cannot connect to Redis as the URL is not a redis:// or rediss:// URL: received ${
        typeof url === "string" ? JSON.stringify(redact(url)) : typeof url
      }`,
    );
  }
}

/** Checks a namespace or object name. */
export function checkName(name: unknown, what: string): asserts name is string {
  if (typeof name !== "string" || name === "" || /[\s{}:]/.test(name)) {
    throw new TypeError(
      `Cannot open ${what} as its name must be a non-empty string without spaces, colons or braces (keys use them): received ${
        typeof name === "string" ? JSON.stringify(name) : typeof name
      }`,
    );
  }
}

/** Checks a lease length in milliseconds. */
export function checkLease(leaseMs: unknown, what: string): number {
  if (leaseMs === undefined) return DEFAULT_LEASE_MS;
  if (
    typeof leaseMs !== "number" || !Number.isInteger(leaseMs) || leaseMs < 30
  ) {
    throw new RangeError(
      `Cannot open ${what} as leaseMs must be an integer >= 30: received ${String(leaseMs)}`,
    );
  }
  return leaseMs;
}

/** The default lease of locks, semaphore permits and queue deliveries. */
export const DEFAULT_LEASE_MS = 10_000;

/** A unique id for a lock holder or stream consumer. */
export function newToken(): string {
  return randomUUID();
}

/** Options of {@linkcode Core}. */
export interface CoreOptions {
  /** Milliseconds to wait for the first connection. */
  connectTimeout?: number;
}

/**
 * The connections of one process to one server and namespace.
 */
export class Core {
  readonly url: string;
  readonly namespace: string;
  readonly #options: CoreOptions;
  #main: Promise<Client> | undefined;
  #sub: Promise<Client> | undefined;
  #idle: Client[] = [];
  #blocking = new Set<Client>();
  #busy = 0;
  #closed = false;
  #pending = new Set<Promise<unknown>>();
  /** Per channel: its listeners, and their one subscription. */
  #listeners = new Map<
    string,
    { listeners: Set<(message: string) => void>; subscribed: Promise<void> }
  >();
  #onReconnect = new Set<() => void>();
  #timers = new Set<() => void>();

  constructor(url: string, namespace: string, options: CoreOptions = {}) {
    this.url = url;
    this.namespace = namespace;
    this.#options = options;
    // A child whose target returned finishes the writes nobody awaited before it closes.
    beforeGoodbye(() => this.flush());
  }

  /**
   * Calls `fn` every `ms` milliseconds (a lease renewal) without keeping the
   * process alive, until the returned stopper is called or the core closes.
   */
  every(ms: number, fn: () => void): () => void {
    const stopTimer = unrefInterval(ms, fn);
    const stop = () => {
      stopTimer();
      this.#timers.delete(stop);
    };
    this.#timers.add(stop);
    return stop;
  }

  /** Waits for the tracked writes (see {@linkcode Core.track}). */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** The key of an object's part, e.g. `mp:{ns}:lock:name:fence`. */
  key(kind: string, name: string, part = ""): string {
    return `mp:${this.namespace}:${kind}:${name}${part ? ":" + part : ""}`;
  }

  /** Whether {@linkcode Core.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  #create(role: string): Promise<Client> {
    let connected = false;
    const client = createClient({
      url: this.url,
      // RESP2: the replies of raw commands (XREADGROUP…) are arrays on every server version.
      RESP: 2,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: this.#options.connectTimeout ?? 5_000,
        // The first connection fails at once (the caller hears why); later drops are retried.
        reconnectStrategy: (retries: number, cause: Error) =>
          connected ? Math.min(50 * (retries + 1), 1_000) : cause,
      },
    });
    // An 'error' event without a listener would crash the process; the commands in flight
    // reject with their own errors, which is where callers hear about it.
    client.on("error", () => {});
    client.on("ready", () => {
      if (connected) { for (const f of this.#onReconnect) f(); }
    });
    return client.connect().then(
      () => {
        connected = true;
        client.unref();
        return client as Client;
      },
      (error: unknown) => {
        client.destroy();
        throw new Error(
          `Cannot connect to Redis at ${redact(this.url)} for the ${role} connection: ${
            errorMessage(error)
          }`,
          { cause: error },
        );
      },
    );
  }

  #connection(): Promise<Client> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (!this.#main) {
      this.#main = this.#create("command");
      this.#main.catch(() => (this.#main = undefined));
    }
    return this.#main;
  }

  #closedError(): Error {
    return new Error(
      `The connection to Redis at ${redact(this.url)} was closed`,
    );
  }

  /** Keeps the sockets referenced while a command is in flight. */
  async #withRef<T>(client: Client, run: () => Promise<T>): Promise<T> {
    if (this.#busy++ === 0) this.#ref(true);
    client.ref();
    try {
      return await run();
    } finally {
      if (--this.#busy === 0) this.#ref(false);
      else if (this.#blocking.has(client)) client.unref();
    }
  }

  #ref(on: boolean): void {
    this.#main?.then((c) => on ? c.ref() : c.unref(), () => {});
    if (!on) { for (const c of this.#blocking) c.unref(); }
  }

  /**
   * Runs one command.
   *
   * @param what The operation, completing "Cannot …", e.g. `put on remote queue "jobs"`.
   * @param args The command and its arguments.
   */
  async call<T = unknown>(what: string, args: string[]): Promise<T> {
    const client = await this.#wrapConnect(what);
    return await this.#withRef(client, () => this.#send<T>(client, what, args));
  }

  async #wrapConnect(what: string): Promise<Client> {
    try {
      return await this.#connection();
    } catch (error) {
      throw new Error(`Cannot ${what} as ${lowerFirst(errorMessage(error))}`, {
        cause: error,
      });
    }
  }

  async #send<T>(client: Client, what: string, args: string[]): Promise<T> {
    try {
      return await client.sendCommand(args) as T;
    } catch (error) {
      throw this.#explain(what, error);
    }
  }

  #explain(what: string, error: unknown): Error {
    const name = (error as Error)?.constructor?.name ?? "";
    const reply = /ErrorReply|SimpleError|BlobError/.test(name);
    return new Error(
      reply
        ? `Cannot ${what} as Redis replied: ${errorMessage(error)}`
        : `Cannot ${what} as the connection to Redis at ${redact(this.url)} failed (${name}: ${
          errorMessage(error)
        }); it is retried in the background, so a later call may succeed`,
      { cause: error },
    );
  }

  /**
   * Runs a Lua script by SHA1, sending its body when the server does not
   * know it (first use, or after a restart).
   */
  async script<T = unknown>(
    what: string,
    script: Script,
    keys: string[],
    args: (string | number)[],
  ): Promise<T> {
    const client = await this.#wrapConnect(what);
    const rest = [String(keys.length), ...keys, ...args.map(String)];
    return await this.#withRef(client, async () => {
      try {
        return await client.sendCommand(["EVALSHA", script.sha, ...rest]) as T;
      } catch (error) {
        if (!errorMessage(error).startsWith("NOSCRIPT")) {
          throw this.#explain(what, error);
        }
      }
      return await this.#send<T>(client, what, ["EVAL", script.body, ...rest]);
    });
  }

  /**
   * Runs a blocking command (`BLPOP`, `XREADGROUP … BLOCK`) on a connection of
   * its own, so that it does not hold up the other commands.
   */
  async blocking<T = unknown>(what: string, args: string[]): Promise<T> {
    if (this.#closed) throw this.#closedError();
    const main = await this.#wrapConnect(what);
    let client = this.#idle.pop();
    if (!client) {
      try {
        client = await this.#create("blocking");
      } catch (error) {
        throw new Error(
          `Cannot ${what} as ${lowerFirst(errorMessage(error))}`,
          { cause: error },
        );
      }
    }
    this.#blocking.add(client);
    try {
      return await this.#withRef(
        main,
        () => this.#withRef(client!, () => this.#send<T>(client!, what, args)),
      );
    } finally {
      this.#blocking.delete(client);
      if (this.#closed || this.#idle.length >= 4 || !client.isReady) {
        client.destroy();
      } else {
        client.unref();
        this.#idle.push(client);
      }
    }
  }

  /**
   * Listens to a channel (the state mirrors of remote objects).
   *
   * @returns Resolves once subscribed: a message published afterwards is
   * heard. A later listener of a channel waits for the same subscription as
   * the first one, so that it never reads a state whose next change it
   * cannot hear yet.
   */
  listen(channel: string, listener: (message: string) => void): Promise<void> {
    let entry = this.#listeners.get(channel);
    if (!entry) {
      const listeners = new Set<(message: string) => void>();
      const subscribed = this.#subscribe(channel, listeners);
      entry = { listeners, subscribed };
      this.#listeners.set(channel, entry);
      // A failed subscription is tried again by the next listener.
      subscribed.catch(() => {
        if (this.#listeners.get(channel) === entry) this.#listeners.delete(channel);
      });
    }
    entry.listeners.add(listener);
    return entry.subscribed;
  }

  async #subscribe(channel: string, listeners: Set<(message: string) => void>): Promise<void> {
    if (!this.#sub) {
      this.#sub = this.#create("subscriber");
      this.#sub.catch(() => (this.#sub = undefined));
    }
    const sub = await this.#sub;
    // Referenced while subscribing: Node exits on a pending promise if no socket holds it.
    await this.#withRef(sub, () =>
      sub.subscribe(channel, (message: string) => {
        for (const f of listeners) f(message);
      }));
    sub.unref();
  }

  /** Calls `f` after each reconnection (to refresh what was missed). */
  onReconnect(f: () => void): void {
    this.#onReconnect.add(f);
  }

  /**
   * Tracks a write whose caller does not wait (e.g. `Event.set()`):
   * {@linkcode Core.close} waits for it.
   */
  track(p: Promise<unknown>): void {
    this.#pending.add(p);
    const done = () => this.#pending.delete(p);
    p.then(done, done);
  }

  #users = 0;

  /** Counts a `Remote` that uses this core (see {@linkcode Core.release}). */
  retain(): void {
    this.#users++;
  }

  /** A `Remote` is done with this core: closes it when it was the last one. */
  async release(): Promise<void> {
    if (this.#users > 0 && --this.#users > 0) return;
    await this.close();
  }

  /** Waits for the tracked writes, then closes every connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    for (const stop of [...this.#timers]) stop();
    const all = [this.#main, this.#sub].filter((p) => p !== undefined);
    for (const p of all) {
      try {
        const c = await p;
        c.ref(); // Node must not exit while QUIT is on its way
        await c.close().catch(() => c.destroy());
      } catch {
        // Never connected: nothing to close.
      }
    }
    for (const c of [...this.#idle, ...this.#blocking]) c.destroy();
    this.#idle = [];
    this.#listeners.clear();
  }
}

const shared = new Map<string, Core>();

/**
 * The core of a process for a URL and namespace, created on first use (for
 * objects revived from handles; they connect lazily).
 */
export function sharedCore(url: string, namespace: string): Core {
  const id = `${namespace}\u0000${url}`;
  let core = shared.get(id);
  if (!core || core.closed) {
    core = new Core(url, namespace);
    shared.set(id, core);
  }
  return core;
}

/** The message of a thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/**
 * Calls `fn` every `ms` milliseconds without keeping the process alive (a
 * lease renewal must not hold a finished child open); returns its stopper.
 */
export function unrefInterval(ms: number, fn: () => void): () => void {
  const timer = setInterval(fn, ms) as unknown;
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref();
  } else {
    (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno
      ?.unrefTimer(timer as number);
  }
  return () => clearInterval(timer as number);
}
