// Copyright the multiproc authors. MIT license.
/**
 * The receiving side of a `Pipe()`'s end: the queue, and the sockets of the
 * senders that took its offers (see `_direct.ts`).
 *
 * @module
 */

import { QueueFront } from "../_internal/backing/queue.ts";
import { Empty } from "../_internal/errors.ts";
import { readFrames } from "../_internal/framing.ts";
import { helloFrame } from "../_internal/hello.ts";
import type { Item } from "../_internal/protocol.ts";
import { connectUnix, type StreamConn } from "../_internal/runtime.ts";
import { checkTimeout, type WaitOptions } from "../_internal/wait.ts";
import { directCounts, DirectOffer, offers, REALM } from "./_direct.ts";
import type { Queue } from "./queue.ts";

/** Longest pause between two looks at the queue while a receiver waits on a direct source. */
const MAX_POLL_MS = 20;

/** A direct source of a receiving end: a socket and the messages read from it, not yet received. */
interface Source {
  conn: StreamConn;
  items: Item[];
  head: number;
  /** The socket ended: the source goes once its last message is received. */
  ended: boolean;
}

/** What a get that found nothing returns. */
const NOTHING = Symbol("nothing");

/** The receiving side of one end: the queue, and the sockets of senders that took its offers. */
export class Inlet {
  #queue: Queue;
  /** The queue's front, which decodes messages read from a socket as it decodes its own items. */
  #front: QueueFront<unknown, unknown>;
  #sources = new Set<Source>();
  #wakers = new Set<() => void>();
  #closed = false;
  /** Time to look at the queue (set by the poll timer, and at first). */
  #look = true;
  /** Milliseconds between looks at the queue: 1 after it had something, doubling while empty. */
  #delay = 1;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Aborts the gets waiting on the queue once a source is added (see {@linkcode Inlet.recv}). */
  #kick: AbortController | undefined;

  /** @param queue The direction's queue. */
  constructor(queue: Queue) {
    this.#queue = queue;
    this.#front = QueueFront.of.get(queue)!;
  }

  /** A message read from a socket, if any (and the sources that ended and are drained go). */
  #next(): Item | undefined {
    for (const source of this.#sources) {
      if (source.head < source.items.length) {
        const item = source.items[source.head++];
        if (source.head === source.items.length) {
          source.items = [];
          source.head = 0;
          if (source.ended) this.#sources.delete(source);
        }
        return item;
      }
      if (source.ended) this.#sources.delete(source);
    }
    return undefined;
  }

  /**
   * Receives the next message from a direct source or the queue, taking the
   * offers it meets on the way.
   *
   * @param what Names the call in error messages ("receive from the connection").
   * @throws {Empty} If `timeout` passes first.
   * @throws {QueueClosed} If the queue is closed and drained, and no socket is left.
   */
  async recv(options: WaitOptions, what: string): Promise<unknown> {
    checkTimeout(options.timeout, what);
    const deadline = performance.now() + (options.timeout ?? Infinity);
    for (;;) {
      options.signal?.throwIfAborted();
      const item = this.#next();
      if (item !== undefined) return await this.#front.decode(item);
      let got: unknown = NOTHING;
      if (this.#sources.size === 0) {
        // No direct source: the queue, waiting as long as the caller does, or until another
        // receive here connects to a sender (then this one must hear that socket too).
        const left = deadline - performance.now();
        const kick = (this.#kick ??= new AbortController()).signal;
        try {
          got = await this.#queue.get({
            signal: options.signal ? AbortSignal.any([options.signal, kick]) : kick,
            timeout: left === Infinity ? undefined : Math.max(0, left),
          });
        } catch (error) {
          // Kicked (not the caller's abort): a get that had its item already resolved instead.
          if (!kick.aborted || options.signal?.aborted) throw error;
        }
      } else if (this.#look) {
        // Another sender's message, or an offer, next to the sockets': taken without waiting.
        this.#look = false;
        if (this.#queue.empty()) {
          this.#delay = Math.min(this.#delay * 2, MAX_POLL_MS);
        } else {
          this.#delay = 1;
          got = await this.#queue.get({ timeout: 0 }).catch((error) => {
            if (error instanceof Empty) return NOTHING;
            throw error;
          });
        }
      } else {
        const left = deadline - performance.now();
        if (left <= 0) {
          throw new Empty(`Cannot ${what} as nothing came within ${options.timeout} ms`);
        }
        await this.#wait(left, options.signal);
        continue;
      }
      if (got instanceof DirectOffer) await this.#take(got);
      else if (got !== NOTHING) return got;
    }
  }

  /** Whether a sender writes to this end over a socket (that only this realm reads). */
  get direct(): boolean {
    return this.#sources.size > 0;
  }

  /** Whether a message is here or on the queue (a snapshot; an offer counts). */
  ready(): boolean {
    for (const source of this.#sources) if (source.head < source.items.length) return true;
    return !this.#queue.empty();
  }

  /**
   * Waits until a source hears something or ends, it is time to look at the
   * queue again, `left` ms pass, or `signal` aborts. The timer that says when
   * to look at the queue outlives the wait: a steady stream on a socket does
   * not set and clear a timer per message.
   */
  #wait(left: number, signal: AbortSignal | undefined): Promise<void> {
    this.#schedule();
    return new Promise((resolve) => {
      const done = () => {
        if (deadline !== undefined) clearTimeout(deadline);
        this.#wakers.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      // Only a deadline nearer than the next look needs a timer of its own.
      const deadline = left < this.#delay ? setTimeout(done, left) : undefined;
      this.#wakers.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Sets the timer of the next look at the queue, unless one is set. */
  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#look = true;
      // Kept going only while somebody waits.
      if (this.#wakers.size > 0) {
        this.#wake();
        this.#schedule();
      }
    }, this.#delay);
  }

  #wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  /** Connects for an offer; on failure the queue goes on serving (where the sender puts). */
  async #take(offer: DirectOffer): Promise<void> {
    if (offer.realm === REALM) {
      directCounts.declined++;
      offers.forget(offer.token)?.declined();
      return;
    }
    if (this.#closed) return;
    let conn: StreamConn;
    try {
      conn = await connectUnix(offer.path);
      await conn.write(helloFrame(offer.key, offer.token));
    } catch {
      return; // Gone, or withdrawn: what it kept is on the queue.
    }
    if (this.#closed) {
      conn.close();
      return;
    }
    conn.unref();
    directCounts.taken++;
    const source: Source = { conn, items: [], head: 0, ended: false };
    this.#sources.add(source);
    this.#kick?.abort();
    this.#kick = undefined;
    const ended = () => {
      conn.close();
      source.ended = true;
      if (source.head >= source.items.length) this.#sources.delete(source);
      this.#wake();
    };
    readFrames(conn, (batch) => {
      for (const item of batch as Item[]) source.items.push(item);
      this.#wake();
    }).then(ended, ended);
  }

  /** Closes the sockets (their senders go back to the queue). */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const source of this.#sources) source.conn.close();
    this.#sources.clear();
    this.#wake();
  }
}
