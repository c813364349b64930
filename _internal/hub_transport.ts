/**
 * How a hub's client reaches it: the transport interface its connection
 * implements (the owner's thread channel is built in `hub_client.ts`), and
 * the Unix-socket connection with its hello, welcome and reconnection.
 *
 * @module
 */

import { BatchWriter, readFrames } from "./framing.ts";
import { helloFrame } from "./hello.ts";
import type { HubRef, Reply, Request } from "./protocol.ts";
import { connectUnix, isNotListening, pidAlive, type StreamConn } from "./runtime.ts";

/** A connection to a hub, as the client's outbox sees it. */
export interface Transport {
  send(messages: Request[]): void;
  /** Whether a write is in flight (the outbox then keeps gathering until it is done). */
  busy(): boolean;
  /** Resolves when everything sent so far has left this process. */
  flushed(): Promise<void>;
  ref(): void;
  unref(): void;
}

// Generous: a hub that starts while the machine is busy compiling (a cold cache) can take seconds.
const CONNECT_TIMEOUT_MS = 30_000;

/**
 * Connects to the hub's Unix socket, retrying while nothing listens there yet
 * (until `deadline`, and while the hub's process lives: a killed owner leaves
 * its socket file behind, which will never listen again).
 */
async function connectPatiently(ref: HubRef, deadline: number): Promise<StreamConn> {
  let delay = 2;
  for (;;) {
    try {
      return await connectUnix(ref.path);
    } catch (error) {
      if (!isNotListening(error) || Date.now() > deadline || !pidAlive(ref.pid)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 100);
    }
  }
}

/**
 * Connects to a hub's socket, retrying while it is not listening yet.
 *
 * Requests go out at once, behind the hello, but they are kept until the
 * hub's `welcome` says it admitted this connection: a hub may close a
 * connection before reading its hello (out of descriptors, Node's answer to
 * EMFILE; or a flood of unauthenticated connections), and then it has
 * handled none of them, so they are sent again on a new connection. Once
 * welcomed, a closed connection is the hub gone.
 */
export async function connectSocket(
  ref: HubRef,
  onReplies: (replies: Reply[]) => void,
  onClose: (error: Error) => void,
): Promise<Transport> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  let unwelcomed: Request[] | undefined = [];
  let referenced = true;
  let conn!: StreamConn;
  let writer!: BatchWriter<Request>;
  const open = async (): Promise<void> => {
    const current = await connectPatiently(ref, deadline);
    if (!referenced) current.unref();
    conn = current;
    writer = new BatchWriter<Request>((bytes) => current.write(bytes), () => current.close());
    const ended = (error: Error) => {
      current.close();
      if (conn !== current) return;
      // Not welcomed yet: the hub turned the connection away unread (try again), or its process
      // died (then nothing will ever read the requests: fail them now).
      if (unwelcomed !== undefined && Date.now() < deadline && pidAlive(ref.pid)) {
        open().catch(onClose);
      } else {
        onClose(error);
      }
    };
    try {
      // The hello goes alone, first, as its own frame.
      await current.write(helloFrame(ref.key));
    } catch (error) {
      ended(error as Error);
      return;
    }
    if (unwelcomed !== undefined && unwelcomed.length > 0) writer.send(unwelcomed);
    readFrames(current, (value) => {
      const replies = value as Reply[];
      if (unwelcomed !== undefined && replies.some((r) => "push" in r && r.push === "welcome")) {
        unwelcomed = undefined;
      }
      onReplies(replies);
    }).then(
      () => ended(new Error("The hub closed the connection")),
      (error) => ended(error),
    );
  };
  await open();
  return {
    send(messages) {
      if (unwelcomed !== undefined) unwelcomed.push(...messages);
      writer.send(messages);
    },
    busy: () => writer.busy,
    flushed: () => writer.flushed(),
    ref() {
      referenced = true;
      conn.ref();
    },
    unref() {
      referenced = false;
      conn.unref();
    },
  };
}
