// Copyright the multiproc authors. MIT license.
/**
 * The direct connection between the two ends of a `Pipe()`: once a
 * conversation is under way, messages stop going through the hub (two hops,
 * each a wake-up of its thread) and go over a Unix socket from the sending
 * process to the receiving one, as Python's pipe does.
 *
 * Each direction of a pipe is a hub queue, and stays the way everything
 * starts (a pipe used once never opens a socket) and the way back whenever
 * the direct path is not there. The switch, for one direction:
 *
 * 1. An end that has sent and received at least once in this realm (a
 *    request and its reply: a conversation) offers a direct connection
 *    instead of putting its next message: it puts an {@linkcode DirectOffer}
 *    on the queue, the path of a socket this realm listens on, with a key
 *    and a token of its own, and keeps the messages it sends meanwhile (each
 *    encoded at `send()`, so a later change to the object changes nothing).
 * 2. The receiving end meets the offer in the queue, behind every message
 *    sent before it, and connects, saying the key and the token in its hello.
 *    The sender writes what it kept, then every later message, on that
 *    socket, through the transport's one writer (`BatchWriter`).
 * 3. While it has a direct source, a receiving end still looks at the queue
 *    (a status read, no request, between waits): other copies of the sending
 *    end, in other processes, may still put messages there.
 * 4. Where memory can be mapped, the receiver also makes a ring in shared
 *    memory and sends its path on the socket (the only thing it writes
 *    there); the sender then writes each message that fits into the ring
 *    and only the rest, and wake-ups of a receiver that sleeps, on the
 *    socket (`_internal/pipe_ring.ts`). A receive that finds nothing spins
 *    briefly watching the ring before it sleeps.
 *
 * Whatever goes wrong goes back to the queue, in order: an offer nobody took
 * within {@linkcode OFFER_TTL_MS} (or when the sender's process or thread
 * says goodbye, or the end is closed) is withdrawn, and what it kept is put
 * on the queue, behind the offer, where a receiver that failed to connect
 * finds it; a socket that ends sends the receiver back to the queue (where
 * `close()`'s end of the queue becomes its `EOFError`), and a sender whose
 * socket broke back to putting. Both ends in one realm never connect: the
 * receiver hands the offer straight back.
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { tryRuntimeDir } from "../_internal/context.ts";
import { readHello } from "../_internal/hello.ts";
import { beforeGoodbye } from "../_internal/hub_client.ts";
import {
  listenUnix,
  randomKey,
  removeTree,
  type StreamConn,
  type StreamListener,
} from "../_internal/runtime.ts";
import type { Outlet } from "./_direct_outlet.ts";

/** How long an offer with messages kept behind it waits to be taken before they go on the queue. */
export const OFFER_TTL_MS = 1000;

/**
 * What this realm's ends did, for tests (a child reports them): `attached`,
 * receivers that took an offer of this realm's senders; `taken`, offers this
 * realm's receivers took; `declined`, offers met in the realm that made them;
 * `ring`, messages this realm's receivers took from a ring in shared memory;
 * `woken`, times a sender woke one of them on the socket after writing there.
 */
export const directCounts = { attached: 0, taken: 0, declined: 0, ring: 0, woken: 0 };

/** This realm (a process's main thread, or one worker thread): offers made here are not taken here. */
export const REALM = randomKey(8);

/** A sender's offer of a direct connection, as it travels on the queue. */
export class DirectOffer implements Shareable {
  /**
   * @param path The socket the sender listens on.
   * @param key The listener's key (the hello's).
   * @param token This offer, among the listener's.
   * @param realm The realm that made it.
   */
  constructor(
    readonly path: string,
    readonly key: string,
    readonly token: string,
    readonly realm: string,
  ) {}

  static {
    registerReviver("pipe-offer", (d) =>
      new DirectOffer(
        String(d.path),
        String(d.key),
        String(d.token),
        String(d.realm),
      ));
  }

  [toHandle](): HandleData {
    const { path, key, token, realm } = this;
    return { kind: "pipe-offer", module: import.meta.url, path, key, token, realm };
  }
}

/** The socket this realm listens on while it has offers out (closed when it has none). */
class Offers {
  #listener: StreamListener | undefined;
  #path = "";
  #key = "";
  #open = new Map<string, Outlet>();
  #failed = false;

  /** Registers an offer for `outlet`, or `undefined` if this realm cannot listen. */
  make(outlet: Outlet): DirectOffer | undefined {
    if (this.#failed) return undefined;
    if (this.#listener === undefined) {
      const dir = tryRuntimeDir();
      if (dir === undefined) return this.#fail();
      const path = `${dir}/pipe-${randomKey(4)}`;
      try {
        this.#listener = listenUnix(path);
      } catch {
        // No permission, or a path too long for a socket: the queue serves.
        return this.#fail();
      }
      this.#listener.unref();
      this.#path = path;
      this.#key = randomKey();
      this.#accept(this.#listener, this.#key);
    }
    const token = randomKey(8);
    this.#open.set(token, outlet);
    return new DirectOffer(this.#path, this.#key, token, REALM);
  }

  #fail(): undefined {
    this.#failed = true;
    return undefined;
  }

  /** Forgets an offer (taken, withdrawn, or handed back); the listener closes with the last. */
  forget(token: string): Outlet | undefined {
    const outlet = this.#open.get(token);
    this.#open.delete(token);
    if (this.#open.size === 0 && this.#listener !== undefined) {
      this.#listener.close();
      this.#listener = undefined;
      removeTree(this.#path);
    }
    return outlet;
  }

  async #accept(listener: StreamListener, key: string): Promise<void> {
    for (;;) {
      let conn: StreamConn;
      try {
        conn = await listener.accept();
      } catch {
        return; // Closed: no offer is out.
      }
      readHello(conn, key).then((hello) => {
        const outlet = hello?.route === undefined ? undefined : this.#open.get(hello.route);
        if (outlet === undefined) conn.close();
        else {
          this.forget(hello!.route!);
          outlet.attach(conn);
        }
      });
    }
  }
}

/** This realm's offers. */
export const offers = new Offers();
/** Outlets with an offer out or a socket: their messages must leave before a goodbye. */
export const live = new Set<Outlet>();
beforeGoodbye(() => Promise.all([...live].map((outlet) => outlet.settle())));
