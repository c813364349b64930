/**
 * Entry module of the hub's helper thread. It serves the owner's threads
 * through the thread port and other processes through a Unix socket in the
 * owner's private folder. A socket client must send the key first; a wrong
 * key, a malformed or oversized frame, or a request batch that fails
 * validation drops that connection only.
 *
 * @module
 */

import { HubServer } from "./hub_server.ts";
import { BatchWriter } from "./framing.ts";
import { readFrames } from "./hub_client.ts";
import { type HubRef, isRequestBatch } from "./protocol.ts";
import { helperThreadContext, listenUnix, type StreamConn } from "./runtime.ts";
import { openStatusFile } from "./status_file.ts";

const HELLO_TIMEOUT_MS = 5_000;

const context = await helperThreadContext();
const ref = context.data as HubRef;
const hub = new HubServer(openStatusFile(ref.status));

const local = hub.session((replies) => context.postMessage(replies));
// The socket is opened only once an object is shared with another thread or process, so a
// program that uses queues within one thread needs no socket (nor the permissions for one).
let listening = false;
context.onMessage((message) => {
  if (!isRequestBatch(message)) return;
  if (!listening && message.some((m) => m.o === "listen")) {
    listening = true;
    acceptLoop();
  }
  local.handle(message.filter((m) => m.o !== "listen"));
});

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

async function serve(conn: StreamConn): Promise<void> {
  const writer = new BatchWriter<unknown>((bytes) => conn.write(bytes), () => conn.close());
  let session: ReturnType<typeof hub.session> | undefined;
  const hello = setTimeout(() => conn.close(), HELLO_TIMEOUT_MS);
  try {
    await readFrames(conn, (value) => {
      if (!session) {
        const m = value as { o?: unknown; key?: unknown; pid?: unknown };
        if (m?.o !== "hello" || typeof m.key !== "string" || !timingSafeEqual(m.key, ref.key)) {
          throw new Error("Unauthenticated client");
        }
        clearTimeout(hello);
        const pid = Number.isSafeInteger(m.pid) ? m.pid as number : undefined;
        session = hub.session((replies) => writer.send(replies), pid);
        return;
      }
      if (!isRequestBatch(value)) throw new Error("Malformed request batch");
      session.handle(value);
    });
  } catch {
    // A bad peer: dropped below, others unaffected.
  } finally {
    clearTimeout(hello);
    session?.close();
    conn.close();
  }
}

async function acceptLoop(): Promise<void> {
  const listener = listenUnix(ref.path);
  for (;;) {
    let conn: StreamConn;
    try {
      conn = await listener.accept();
    } catch {
      break;
    }
    serve(conn);
  }
}
