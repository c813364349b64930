/**
 * The accept loop every server side uses (the parent in "async", "thread"
 * and "process" modes, each prefork child): accept, hand the connection on,
 * stop accepting while `maxConnections` are in flight (backpressure, like
 * `ForkingMixIn.max_children`: new clients wait in the kernel's backlog),
 * and on stop, drain in-flight connections up to a timeout, then abort them.
 *
 * @module
 */

import type { NetConn, NetListener } from "../_internal/runtime.ts";
import { waitAtMost } from "../_internal/wait.ts";

/** One connection being served: `done` settles (never rejects) when it is over. */
export interface Served {
  readonly done: Promise<void>;
  /** Closes the connection at once (its handler sees end of stream or an error). */
  abort(): void;
}

/** After aborting, how long to wait for the aborted connections' handlers to notice. */
export const ABORT_GRACE_MS = 2000;

/** Pause after an accept error that is not "closed" (EMFILE, ECONNABORTED…), so it cannot spin. */
const ACCEPT_RETRY_MS = 50;

/** Accepts connections from a listener until stopped; see the module doc. */
export class AcceptLoop {
  #listener: NetListener;
  #max: number;
  #onConn: (conn: NetConn) => Served;
  #active = new Set<Served>();
  #stopping = false;
  #wake: (() => void) | undefined;
  #running: Promise<void> | undefined;

  constructor(listener: NetListener, max: number, onConn: (conn: NetConn) => Served) {
    this.#listener = listener;
    this.#max = max;
    this.#onConn = onConn;
  }

  /** Connections in flight. */
  get active(): number {
    return this.#active.size;
  }

  /** Starts accepting (once); resolves when the loop has stopped. */
  run(): Promise<void> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      if (this.#active.size >= this.#max) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      let conn: NetConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        if (this.#stopping) break;
        // Closed under us, or a transient failure (out of file descriptors, a
        // client that reset before accept): pause, then try again unless stopping.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ACCEPT_RETRY_MS);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        continue;
      }
      if (this.#stopping) {
        conn.close();
        break;
      }
      const served = this.#onConn(conn);
      this.#active.add(served);
      served.done.then(() => {
        this.#active.delete(served);
        const wake = this.#wake;
        this.#wake = undefined;
        wake?.();
      });
    }
  }

  /**
   * Stops accepting (closes the listener), waits up to `timeout` ms for the
   * connections in flight, then aborts the rest and gives their handlers
   * {@linkcode ABORT_GRACE_MS} to finish.
   */
  async stop(timeout: number): Promise<void> {
    this.#stopping = true;
    this.#listener.close();
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    await this.#running;
    const all = () => Promise.all([...this.#active].map((served) => served.done));
    if (this.#active.size > 0) await waitAtMost(all(), timeout);
    for (const served of this.#active) served.abort();
    if (this.#active.size > 0) await waitAtMost(all(), ABORT_GRACE_MS);
  }
}
