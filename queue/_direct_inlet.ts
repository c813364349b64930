// Copyright the multiproc authors. MIT license.
/**
 * The receiving side of a `Pipe()`'s end: the queue, and the sockets of the
 * senders that took its offers (see `_direct.ts`).
 *
 * @module
 */

import { QueueFront } from "../_internal/backing/queue.ts";
import { Empty } from "../_internal/errors.ts";
import { tryRuntimeDir } from "../_internal/context.ts";
import { encodeFrame, readFrames } from "../_internal/framing.ts";
import { helloFrame } from "../_internal/hello.ts";
import { createRing, type RingReader } from "../_internal/pipe_ring.ts";
import type { Item } from "../_internal/protocol.ts";
import { connectUnix, cpuCount, type StreamConn, yieldCore } from "../_internal/runtime.ts";
import { checkTimeout, type WaitOptions } from "../_internal/wait.ts";
import { directCounts, DirectOffer, OFFER_TTL_MS, offers, REALM } from "./_direct.ts";
import type { Queue } from "./queue.ts";

/** Longest pause between two looks at the queue while a receiver waits on a direct source. */
const MAX_POLL_MS = 20;

/**
 * How long a receive that finds nothing spins, watching the rings of its
 * sources, before it sleeps on their sockets (ms): a reply that comes within
 * it is taken with no system call and no event-loop turn on either side.
 */
const SPIN_MS = 0.25;
/**
 * After this long (ms) a spin offers its core to others between looks: the
 * sender may be waiting for one (two cores, and each process has threads).
 */
const SPIN_ALONE_MS = 0.02;
/**
 * Spins go on while more than this share of recent ones found a message (a
 * moving average over about the last 8)...
 */
const SPIN_WORTH = 0.25;
/** ...and below it, one receive in this many still spins, to notice when they would pay again. */
const SPIN_PROBE = 16;
/** Spinning only helps where the sender can run meanwhile. */
const CAN_SPIN = cpuCount() > 1;

/** A direct source of a receiving end: a socket and the messages read from it, not yet received. */
interface Source {
  conn: StreamConn;
  items: Item[];
  head: number;
  /** The socket ended: the source goes once its last message is received. */
  ended: boolean;
  /** The ring in shared memory the sender writes what fits to (see `_internal/pipe_ring.ts`). */
  ring: RingReader | undefined;
  /** The number of the next message from this source (ring and socket share the numbers). */
  seq: number;
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
  /** The share of recent spins that found a message (a moving average; hopeful at first). */
  #spinHits = 1;
  /** Receives that did not spin since the last one that did. */
  #spinSkipped = 0;

  /** @param queue The direction's queue. */
  constructor(queue: Queue) {
    this.#queue = queue;
    this.#front = QueueFront.of.get(queue)!;
  }

  /**
   * A message from a direct source, if any: the ring's next record if it is
   * the message next in order, else the socket's next one (and the sources
   * that ended and are drained go).
   */
  #next(): Item | undefined {
    for (const source of this.#sources) {
      const fromRing = source.ring?.take(source.seq);
      if (fromRing !== undefined) {
        source.seq++;
        directCounts.ring++;
        return fromRing;
      }
      if (source.head < source.items.length) {
        const item = source.items[source.head++];
        source.seq++;
        if (source.head === source.items.length) {
          source.items = [];
          source.head = 0;
        }
        return item;
      }
      if (source.ended) {
        // What is left in the ring after the socket's end (whatever its number: a message lost
        // on the socket when it broke must not hold back the rest), then the source goes.
        const rest = source.ring?.take(source.seq, true);
        if (rest !== undefined) {
          source.seq++;
          directCounts.ring++;
          return rest;
        }
        this.#drop(source);
      }
    }
    return undefined;
  }

  #drop(source: Source): void {
    source.ring?.close();
    this.#sources.delete(source);
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
    let deadline = performance.now() + (options.timeout ?? Infinity);
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
        if (this.#spin(left) || !this.#sleep()) continue;
        await this.#wait(left, options.signal);
        this.#awake();
        continue;
      }
      if (got instanceof DirectOffer) {
        await this.#take(got);
        // An offer stands for a message sent already (its sender kept it, to write it on the
        // socket once the offer is taken): it was here when this receive looked, so the receive
        // waits for it past its timeout (as `poll()` said it was there), at most as long as the
        // offer lasts, after which its sender puts what it kept on the queue.
        deadline = Math.max(deadline, performance.now() + OFFER_TTL_MS);
      } else if (got !== NOTHING) return got;
    }
  }

  /**
   * Spins at most {@linkcode SPIN_MS} (and `left`) watching the rings that
   * carried messages: whether one has the message next in order now. The
   * event loop does not run meanwhile, so the spin is short, offers its core
   * between looks after {@linkcode SPIN_ALONE_MS}, and stops being tried
   * once most recent ones found nothing (a sender that writes seldom), but
   * for one receive in {@linkcode SPIN_PROBE}. A spin that misses now and
   * then (the sender was descheduled) hardly moves the average.
   */
  #spin(left: number): boolean {
    if (!CAN_SPIN) return false;
    if (this.#spinHits < SPIN_WORTH && ++this.#spinSkipped < SPIN_PROBE) return false;
    this.#spinSkipped = 0;
    const watched: Source[] = [];
    for (const source of this.#sources) if (source.ring?.used) watched.push(source);
    if (watched.length === 0) return false;
    const start = performance.now();
    const until = start + Math.min(SPIN_MS, left);
    let now = start;
    do {
      for (const source of watched) {
        // The message next in order only: a later one says it is on the socket, still on its way.
        if (source.ring!.ready(source.seq)) {
          this.#spinHits += (1 - this.#spinHits) / 8;
          return true;
        }
      }
      if (now - start > SPIN_ALONE_MS) yieldCore();
      now = performance.now();
    } while (now < until);
    this.#spinHits -= this.#spinHits / 8;
    return false;
  }

  /**
   * Marks the rings' readers asleep, so that their senders wake this end on
   * the socket: `false` (none left asleep) if a record came meanwhile.
   */
  #sleep(): boolean {
    for (const source of this.#sources) {
      if (source.ring !== undefined && !source.ring.sleep(source.seq)) {
        this.#awake();
        return false;
      }
    }
    return true;
  }

  /**
   * No longer asleep, unless another receive still waits (its senders must
   * go on waking it): a reader left marked asleep only costs its sender one
   * needless wake-up.
   */
  #awake(): void {
    if (this.#wakers.size > 0) return;
    for (const source of this.#sources) source.ring?.awake();
  }

  /** Whether a sender writes to this end over a socket (that only this realm reads). */
  get direct(): boolean {
    return this.#sources.size > 0;
  }

  /** Whether a message is here or on the queue (a snapshot; an offer counts). */
  ready(): boolean {
    for (const source of this.#sources) {
      if (source.head < source.items.length || source.ring?.ready(source.seq)) return true;
    }
    return !this.#queue.empty();
  }

  /**
   * Whether a receive would reject at once with `QueueClosed`: no socket is
   * left to hear from, and the queue is closed and drained (a snapshot).
   */
  atEnd(): boolean {
    return this.#sources.size === 0 && this.#front.closed() && this.#queue.empty();
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
    // A ring in shared memory for what fits, where it can be mapped: its path is all this end
    // ever writes on the socket.
    let ring = createRing(tryRuntimeDir());
    if (ring !== undefined) {
      try {
        await conn.write(encodeFrame([ring.path]));
      } catch {
        ring.close();
        ring = undefined;
      }
    }
    if (this.#closed) {
      ring?.close();
      conn.close();
      return;
    }
    conn.unref();
    directCounts.taken++;
    const source: Source = { conn, items: [], head: 0, ended: false, ring, seq: 0 };
    this.#sources.add(source);
    this.#kick?.abort();
    this.#kick = undefined;
    const ended = () => {
      conn.close();
      source.ended = true;
      if (source.head >= source.items.length && !source.ring?.ready()) this.#drop(source);
      this.#wake();
    };
    readFrames(conn, (batch) => {
      // An empty message only wakes this end up (the sender wrote to the ring while it slept).
      for (const item of batch as Item[]) {
        if (item.length > 0) source.items.push(item);
        else directCounts.woken++;
      }
      this.#wake();
    }).then(ended, ended);
  }

  /** Closes the sockets (their senders go back to the queue). */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const source of this.#sources) {
      source.conn.close();
      source.ring?.close();
    }
    this.#sources.clear();
    this.#wake();
  }
}
