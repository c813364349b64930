// Copyright the multiproc authors. MIT license.
/**
 * The sending side of a `Pipe()`'s end: the queue, until the receiver takes
 * its offer of a direct socket (see `_direct.ts`).
 *
 * @module
 */

import { QueueFront } from "../_internal/backing/queue.ts";
import { BatchWriter, readFrames } from "../_internal/framing.ts";
import type { Item } from "../_internal/protocol.ts";
import { openRing, type RingWriter } from "../_internal/pipe_ring.ts";
import type { StreamConn } from "../_internal/runtime.ts";
import { directCounts, DirectOffer, live, OFFER_TTL_MS, offers } from "./_direct.ts";
import type { Queue } from "./queue.ts";

/** The front of a queue, for its encoded puts. */
function frontOf(queue: Queue): QueueFront<unknown, unknown> {
  return QueueFront.of.get(queue)!;
}

/** What wakes a receiver that sleeps on the socket: an empty message (no item is empty). */
const WAKE: Item = new Uint8Array(0);

/** What `send()` says when a message cannot be cloned. */
const SEND_CONTEXT = "Cannot send on the connection as";

/** The sending side of one end: the queue, or a direct socket once the receiver took an offer. */
export class Outlet {
  #front: QueueFront<unknown, unknown>;
  #sent = false;
  /** Set by the end when it receives: a conversation is under way. */
  received = false;
  #offer: DirectOffer | undefined;
  #kept: Item[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #conn: StreamConn | undefined;
  #writer: BatchWriter<Item> | undefined;
  /** The receiver's ring in shared memory, once it sent it (see `_internal/pipe_ring.ts`). */
  #ring: RingWriter | undefined;
  /** Messages sent on the direct connection so far: the next one's number. */
  #seq = 0;

  /** @param queue The direction's queue. */
  constructor(queue: Queue) {
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
    const encoded = this.#front.encode(obj, SEND_CONTEXT) as Item;
    if (this.#writer !== undefined) {
      this.#direct(encoded);
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

  /** Sends on the direct connection: in the ring if it fits, else on the socket. */
  #direct(encoded: Item): void {
    const ring = this.#ring;
    if (ring !== undefined && ring.write(encoded, this.#seq)) {
      this.#seq++;
      if (ring.takeSleeper()) this.#writer!.send([WAKE]);
      return;
    }
    this.#seq++;
    this.#writer!.send([encoded]);
  }

  #put(encoded: unknown): void {
    // As before the direct path: a send never waits, and a closed queue is the receiver's EOF.
    this.#front.putEncoded(encoded, {}).catch(() => {});
  }

  /**
   * Keeps the offer's messages at most {@linkcode OFFER_TTL_MS}: the timer
   * keeps a program whose main module is done alive that long at most.
   */
  #arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#withdraw();
    }, OFFER_TTL_MS);
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The receiver connected for this outlet's offer: what was kept, then everything, goes there. */
  attach(conn: StreamConn): void {
    this.#disarm();
    this.#offer = undefined;
    this.#conn = conn;
    directCounts.attached++;
    const writer = new BatchWriter<Item>((bytes) => conn.write(bytes), () => this.#drop());
    this.#writer = writer;
    this.#seq = this.#kept.length;
    if (this.#kept.length > 0) writer.send(this.#kept.splice(0));
    // The receiver sends only the path of its ring, if it made one; a read ends when it closes
    // its end or exits.
    conn.unref();
    readFrames(conn, (message) => {
      const path = Array.isArray(message) ? message[0] : undefined;
      if (this.#conn === conn && this.#ring === undefined && typeof path === "string") {
        this.#ring = openRing(path);
      }
    }).then(() => this.#drop(), () => this.#drop());
  }

  /** The socket ended or broke: back to the queue (what was on its way there is the receiver's). */
  #drop(): void {
    if (this.#conn === undefined) return;
    this.#conn.close();
    this.#conn = undefined;
    this.#writer = undefined;
    this.#ring?.close();
    this.#ring = undefined;
    live.delete(this);
    // The conversation is over: no new offer until this end receives again.
    this.received = false;
  }

  /** Takes the offer back: what it kept goes on the queue, behind it, in order. */
  #withdraw(): void {
    const offer = this.#offer;
    if (offer === undefined) return;
    this.#disarm();
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

  /**
   * Closes this copy's sending side: written out, then the socket is closed
   * (the queue closes with the end's last copy, see `Connection.close()`).
   */
  close(): void {
    this.#withdraw();
    const writer = this.#writer;
    if (writer !== undefined) writer.flushed().then(() => this.#drop());
  }
}
