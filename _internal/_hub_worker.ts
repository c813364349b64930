/**
 * Entry module of the hub's helper thread. It serves the owner's threads
 * through the thread port and other processes through a Unix socket in the
 * owner's private folder. A socket client must send the key first; a wrong
 * key, a malformed or oversized frame, or a request batch that fails
 * validation drops that connection only.
 *
 * Until a connection has said the key it is held to little: its first
 * message may be at most {@linkcode HELLO_MAX_BYTES} (refused from the frame
 * header, before anything is read or allocated), it has
 * {@linkcode HELLO_TIMEOUT_MS} to send it, and at most
 * {@linkcode MAX_UNAUTHENTICATED} such connections are open at once: a new
 * one closes the oldest (a real client says hello as soon as it connects, so
 * it is never the oldest for long, and a flood of idle connections can
 * neither exhaust the owner's descriptors nor keep a child out). An error
 * from `accept()` (out of descriptors…) is logged once and retried with a
 * growing delay: the connection waits in the socket's backlog meanwhile.
 *
 * @module
 */

import { HubServer } from "./hub_server.ts";
import { isHello } from "./hello.ts";
import { BatchWriter, readFrames } from "./framing.ts";
import {
  fromThread,
  HELLO_MAX_BYTES,
  type HubRef,
  isRequestBatch,
  MAX_UNAUTHENTICATED,
  type Reply,
  toThread,
} from "./protocol.ts";
import { errorCode, helperThreadContext, listenUnix, type StreamConn } from "./runtime.ts";
import { openStatusFile } from "./status_file.ts";
import { sweepRings } from "./item_store.ts";

/** How long a new connection has to authenticate. */
const HELLO_TIMEOUT_MS = 5_000;
/** Longest delay between two `accept()` attempts after errors. */
const ACCEPT_RETRY_MAX_MS = 1_000;

const context = await helperThreadContext();
const ref = context.data as HubRef;
const hub = new HubServer(await openStatus());

/**
 * Opens the hub's status file; if its folder is already gone, the process
 * removed it on its way out before this thread got going: there is nothing
 * to serve, and this thread (which does not keep the process alive) waits
 * for the end quietly instead of reporting an uncaught NotFound.
 */
async function openStatus(): Promise<ReturnType<typeof openStatusFile>> {
  try {
    return openStatusFile(ref.status);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
    return await new Promise<never>(() => {});
  }
}

const local = hub.session((replies) => context.postMessage(toThread(replies)));
// The socket is opened only once an object is shared with another thread or process, so a
// program that uses queues within one thread needs no socket (nor the permissions for one).
let listening = false;
context.onMessage((message) => {
  if (!isRequestBatch(message)) return;
  if (!listening && message.some((m) => m.op === "listen")) {
    listening = true;
    acceptLoop();
  }
  local.handle(fromThread(message));
});

/** Connections that have not authenticated yet, oldest first. */
const unauthenticated = new Set<StreamConn>();

async function serve(conn: StreamConn): Promise<void> {
  if (unauthenticated.size >= MAX_UNAUTHENTICATED) {
    const oldest = unauthenticated.values().next().value!;
    unauthenticated.delete(oldest);
    oldest.close();
  }
  unauthenticated.add(conn);
  const writer = new BatchWriter<unknown>((bytes) => conn.write(bytes), () => conn.close());
  let session: ReturnType<typeof hub.session> | undefined;
  const hello = setTimeout(() => conn.close(), HELLO_TIMEOUT_MS);
  try {
    await readFrames(conn, (value) => {
      if (!session) {
        if (!isHello(value, ref.key)) throw new Error("Unauthenticated client");
        clearTimeout(hello);
        unauthenticated.delete(conn);
        const pid = Number.isSafeInteger(value.pid) ? value.pid : undefined;
        session = hub.session((replies) => writer.send(replies), pid, writer);
        writer.send([{ id: 0, push: "welcome", obj: 0 } satisfies Reply]);
        return;
      }
      if (!isRequestBatch(value)) throw new Error("Malformed request batch");
      session.handle(value);
    }, { maxMessage: () => session ? Infinity : HELLO_MAX_BYTES });
  } catch {
    // A bad peer: dropped below, others unaffected.
  } finally {
    clearTimeout(hello);
    unauthenticated.delete(conn);
    session?.close();
    conn.close();
    if (session) sweepRingsSoon();
  }
}

/** The owner's private folder, where realms that put large items keep their rings. */
const folder = ref.path.slice(0, ref.path.lastIndexOf("/"));
/** How long after a client leaves its rings are looked at, and again while some are in use. */
const SWEEP_DELAY_MS = 1_000;
let sweepTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * Removes the rings of realms gone once their items are read (see
 * `item_store.ts`): looked at a second after a client leaves, and every
 * second while some are still in use.
 */
function sweepRingsSoon(): void {
  sweepTimer ??= setTimeout(() => {
    sweepTimer = undefined;
    if (sweepRings(folder)) sweepRingsSoon();
  }, SWEEP_DELAY_MS);
}

async function acceptLoop(): Promise<void> {
  const listener = listenUnix(ref.path);
  let delay = 0;
  let logged = false;
  for (;;) {
    let conn: StreamConn;
    try {
      conn = await listener.accept();
      delay = 0;
    } catch (error) {
      // Out of descriptors, or the like: the connection stays in the backlog; try again soon.
      if (!logged) {
        logged = true;
        console.error(
          `multiproc: the hub of process ${ref.pid} cannot accept a connection (${
            error instanceof Error ? error.message : String(error)
          }); it keeps retrying`,
        );
      }
      delay = Math.min(Math.max(delay * 2, 10), ACCEPT_RETRY_MAX_MS);
      await new Promise((resolve) => setTimeout(resolve, delay));
      continue;
    }
    serve(conn);
  }
}
