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

import {
  type HandleData,
  registerReviver,
  type Shareable,
  toHandle,
  unpackEncoded,
} from "../_internal/codec.ts";
import { decodeEncoded, QueueFront } from "../_internal/backing/queue.ts";
import { tryRuntimeDir } from "../_internal/context.ts";
import { Empty } from "../_internal/errors.ts";
import { BatchWriter, readFrames } from "../_internal/framing.ts";
import { helloFrame, readHello } from "../_internal/hello.ts";
import { beforeGoodbye } from "../_internal/hub_client.ts";
import type { Item, OutgoingItem } from "../_internal/protocol.ts";
import {
  connectUnix,
  listenUnix,
  randomKey,
  removeTree,
  type StreamConn,
  type StreamListener,
} from "../_internal/runtime.ts";
import { checkTimeout, type WaitOptions } from "../_internal/wait.ts";
import type { Queue } from "./queue.ts";

/** How long an offer with messages kept behind it waits to be taken before they go on the queue. */
export const OFFER_TTL_MS = 1000;
/** Longest pause between two looks at the queue while a receiver waits on a direct source. */
const MAX_POLL_MS = 20;

/**
 * What this realm's ends did, for tests (a child reports them): `attached`,
 * receivers that took an offer of this realm's senders; `taken`, offers this
 * realm's receivers took; `declined`, offers met in the realm that made them.
 */
export const directCounts = { attached: 0, taken: 0, declined: 0 };

/** This realm (a process's main thread, or one worker thread): offers made here are not taken here. */
const REALM = randomKey(8);

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

const offers = new Offers();
/** Outlets with an offer out or a socket: their messages must leave before a goodbye. */
const live = new Set<Outlet>();
beforeGoodbye(() => Promise.all([...live].map((outlet) => outlet.settle())));

/** The front of a queue, for its encoded puts. */
function frontOf(queue: Queue): QueueFront<unknown, unknown> {
  return QueueFront.of.get(queue)!;
}

/** What `send()` says when a message cannot be cloned. */
const SEND_CONTEXT = "Cannot send on the connection as";

/** The sending side of one end: the queue, or a direct socket once the receiver took an offer. */
export class Outlet {
  #queue: Queue;
  #front: QueueFront<unknown, unknown>;
  #sent = false;
  /** Set by the end when it receives: a conversation is under way. */
  received = false;
  #offer: DirectOffer | undefined;
  #kept: OutgoingItem[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ttl = OFFER_TTL_MS;
  #conn: StreamConn | undefined;
  #writer: BatchWriter<OutgoingItem> | undefined;

  /** @param queue The direction's queue. */
  constructor(queue: Queue) {
    this.#queue = queue;
    this.#front = frontOf(queue);
  }

  /**
   * Sends a message: encoded now (so it fails now if it cannot be cloned, and
   * a later change to it changes nothing), then written to the socket, kept
   * for it, or put on the queue.
   *
   * @throws {TypeError} If it cannot be cloned.
   */
  send(obj: unknown): void {
    const encoded = this.#front.encode(obj, SEND_CONTEXT) as OutgoingItem;
    if (this.#writer !== undefined) {
      this.#writer.send([encoded]);
      return;
    }
    if (this.#offer === undefined && this.#sent && this.received) {
      const offer = offers.make(this);
      if (offer !== undefined) {
        this.#offer = offer;
        live.add(this);
        this.#put(this.#front.encode(offer));
      }
    }
    if (this.#offer !== undefined) {
      this.#kept.push(encoded);
      this.#arm();
      return;
    }
    this.#sent = true;
    this.#put(encoded);
  }

  #put(encoded: unknown): void {
    // As before the direct path: a send never waits, and a closed queue is the receiver's EOF.
    this.#front.putEncoded(encoded, {}).catch(() => {});
  }

  /** Keeps the offer's messages at most {@linkcode OFFER_TTL_MS} (doubling with each withdrawal). */
  #arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#ttl *= 2;
      this.#withdraw();
    }, this.#ttl);
  }

  /** The receiver connected for this outlet's offer: what was kept, then everything, goes there. */
  attach(conn: StreamConn): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#offer = undefined;
    this.#conn = conn;
    directCounts.attached++;
    const writer = new BatchWriter<OutgoingItem>((bytes) => conn.write(bytes), () => this.#drop());
    this.#writer = writer;
    if (this.#kept.length > 0) writer.send(this.#kept.splice(0));
    // The receiver sends nothing: a read ends when it closes its end or exits.
    conn.unref();
    readFrames(conn, () => {}).then(() => this.#drop(), () => this.#drop());
  }

  /** The socket ended or broke: back to the queue (what was on its way there is the receiver's). */
  #drop(): void {
    if (this.#conn === undefined) return;
    this.#conn.close();
    this.#conn = undefined;
    this.#writer = undefined;
    live.delete(this);
  }

  /** Takes the offer back: what it kept goes on the queue, behind it, in order. */
  #withdraw(): void {
    const offer = this.#offer;
    if (offer === undefined) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#offer = undefined;
    offers.forget(offer.token);
    if (this.#writer === undefined) live.delete(this);
    for (const encoded of this.#kept.splice(0)) this.#put(encoded);
  }

  /** Offers taken back and sockets written out: before a goodbye, and by `close()`. */
  async settle(): Promise<void> {
    this.#withdraw();
    await this.#writer?.flushed();
  }

  /** The offer is handed back unused (the receiver is in this realm). */
  declined(): void {
    this.#withdraw();
    this.received = false; // No offer again until another exchange.
  }

  /** Closes this end's sending side: written out, then the socket and the queue are closed. */
  close(): void {
    this.#withdraw();
    this.#queue.close();
    const writer = this.#writer;
    if (writer !== undefined) writer.flushed().then(() => this.#drop());
  }
}

/** A direct source of a receiving end: a socket and the messages read from it, not yet received. */
interface Source {
  conn: StreamConn;
  items: Item[];
  head: number;
  /** The socket ended: the source goes once its last message is received. */
  ended: boolean;
}

/** Decodes a message read from a socket. */
function decodeItem(item: Item): Promise<unknown> | unknown {
  return decodeEncoded(unpackEncoded(item));
}

/** What a get that found nothing returns. */
const NOTHING = Symbol("nothing");

/** The receiving side of one end: the queue, and the sockets of senders that took its offers. */
export class Inlet {
  #queue: Queue;
  #sources = new Set<Source>();
  #wakers = new Set<() => void>();
  #closed = false;
  /** Time to look at the queue (set by the poll timer, and at first). */
  #look = true;
  /** Milliseconds between looks at the queue: 1 after it had something, doubling while empty. */
  #delay = 1;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param queue The direction's queue. */
  constructor(queue: Queue) {
    this.#queue = queue;
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
      if (item !== undefined) return await decodeItem(item);
      let got: unknown = NOTHING;
      if (this.#sources.size === 0) {
        // No direct source: the queue, waiting as long as the caller does.
        const left = deadline - performance.now();
        got = await this.#queue.get({
          signal: options.signal,
          timeout: left === Infinity ? undefined : Math.max(0, left),
        });
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
