/**
 * What every remote object shares: its connection core, its keys, its state
 * mirror, errors of writes nobody awaited, and its handle.
 *
 * @module
 */

import type { HandleData } from "../_internal/codec.ts";
import { checkName, type Core, redact, sharedCore } from "./_core.ts";
import { type Loaded, Mirror } from "./_mirror.ts";
import { OPEN } from "./_scripts.ts";

/**
 * Where remote objects live: a Redis server (by URL) and a namespace.
 */
export interface RemoteOrigin {
  /** The server's URL, `redis://…` or `rediss://…` (credentials included). */
  readonly url: string;
  /** The prefix that separates applications on one server. */
  readonly namespace: string;
}

/** The handle of a remote object: enough for any process to open it again. */
export interface RemoteHandle extends HandleData {
  url: string;
  namespace: string;
  name: string;
  params: Record<string, string>;
  state: Record<string, unknown>;
}

/** The common part of remote objects. */
export class RemoteObject<S extends object> {
  /** The name under which every process opens this object. */
  readonly name: string;
  readonly #origin: RemoteOrigin;
  readonly #kind: string;
  readonly #what: string;
  readonly #params: Record<string, string>;
  readonly core: Core;
  readonly mirror: Mirror<S>;
  #ready: Promise<void> | undefined;
  #asyncError: unknown;

  constructor(
    origin: RemoteOrigin,
    kind: string,
    what: string,
    name: string,
    params: Record<string, string>,
    state: S,
  ) {
    checkName(name, what);
    this.#origin = { url: origin.url, namespace: origin.namespace };
    this.core = sharedCore(origin.url, origin.namespace);
    this.#kind = kind;
    this.#what = `${what} "${name}"`;
    this.name = name;
    this.#params = params;
    this.mirror = new Mirror(state);
  }

  /** E.g. `remote queue "jobs"`, for messages. */
  get what(): string {
    return this.#what;
  }

  /** The key of a part of this object. */
  key(part = ""): string {
    return this.core.key(this.#kind, this.name, part);
  }

  /** The channel its changes are published on. */
  get channel(): string {
    return this.key("chan");
  }

  /**
   * Checks the object's parameters against the server's (the first opener
   * sets them) and starts following its state. Runs once; every operation
   * awaits it.
   */
  ready(load: () => Promise<Loaded<S>>): Promise<void> {
    this.#ready ??= this.#open(load);
    return this.#ready;
  }

  async #open(load: () => Promise<Loaded<S>>): Promise<void> {
    const flat = Object.entries(this.#params).flat();
    if (flat.length > 0) {
      const reply = await this.core.script<string[]>(
        `open ${this.#what}`,
        OPEN,
        [this.key("meta")],
        flat,
      );
      const have: Record<string, string> = {};
      for (let i = 0; i < reply.length; i += 2) have[reply[i]] = reply[i + 1];
      for (const [k, v] of Object.entries(this.#params)) {
        if (have[k] !== v) {
          throw new Error(
            `Cannot open ${this.#what} with ${k} ${v} as it exists on ${
              redact(this.#origin.url)
            } with ${k} ${have[k]}: use the same ${k} everywhere, or another name`,
          );
        }
      }
    }
    await this.mirror.follow(this.core, this.channel, load);
  }

  /** Starts opening in the background (a revived object): errors surface at the next call. */
  openInBackground(load: () => Promise<Loaded<S>>): void {
    this.background(this.ready(load));
  }

  /** Runs a write nobody awaits; its error is thrown by the next call. */
  background(p: Promise<unknown>): void {
    this.core.track(p.catch((error) => {
      this.#asyncError ??= error;
    }));
  }

  /** Throws the error of an earlier write nobody awaited, once. */
  throwPending(): void {
    if (this.#asyncError !== undefined) {
      const error = this.#asyncError;
      this.#asyncError = undefined;
      throw error;
    }
  }

  /** The handle data for another process or thread. */
  handle(kind: string, module: string): RemoteHandle {
    return {
      kind,
      module,
      url: this.#origin.url,
      namespace: this.#origin.namespace,
      name: this.name,
      params: this.#params,
      state: this.mirror.state as Record<string, unknown>,
    };
  }
}

/** Reads the origin, name and params back from a handle. */
export function fromHandle(data: HandleData): RemoteHandle {
  return data as RemoteHandle;
}
