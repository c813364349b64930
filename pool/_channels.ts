/**
 * The pool's side of its workers: one channel per worker, to a process (a
 * Unix socket connection, framed) or to a thread (`postMessage`), with the
 * worker's exit. The pool core (`_worker_pool.ts`) sees only
 * {@linkcode WorkerChannel}.
 *
 * @module
 */

import type { Encoded } from "../_internal/codec.ts";
import { processIdentity, processShared, runtimeDir } from "../_internal/context.ts";
import { BatchWriter, encodeFrame, readFrames } from "../_internal/framing.ts";
import { readHello } from "../_internal/hello.ts";
import {
  checkSocketPermission,
  currentPid,
  listenUnix,
  mainModuleUrl,
  onRuntimeExit,
  type PoolThread,
  randomKey,
  spawnRuntime,
  startPoolThread,
  type StreamConn,
  type StreamListener,
} from "../_internal/runtime.ts";
import { remoteModulesSeen, type TargetRef } from "../_internal/target.ts";
import {
  type FromWorker,
  type ToWorker,
  WORKER_START_VERSION,
  type WorkerStart,
} from "./_protocol.ts";
import { packBatch, unpackBatch } from "./_thread_batch.ts";

/** How a worker ended. */
export interface WorkerExit {
  /** Exit code (for a signal, `128 + signo`). */
  code: number;
  /** Signal name when a process was killed by one. */
  signal: string | null;
}

/** One worker, as the pool core sees it. */
export interface WorkerChannel {
  /** `SpawnPoolWorker-3 (pid 1234)` / `ThreadPoolWorker-2 (thread 7)`, for messages. */
  readonly label: string;
  /** The process id, or `null` for a thread. */
  readonly pid: number | null;
  /** Resolves when messages can be sent (the process has connected). */
  readonly connected: Promise<void>;
  /** Resolves once the worker is gone and every message it sent has been delivered. */
  readonly exited: Promise<WorkerExit>;
  send(messages: ToWorker[]): void;
  onMessages(handler: (messages: FromWorker[]) => void): void;
  ref(): void;
  unref(): void;
  /** Stops the worker at once (SIGKILL / thread terminate). */
  kill(): void;
}

/** What every worker of a pool gets. */
export interface WorkerSetup {
  /** The name of worker `n`. */
  name: (n: number) => string;
  init?: { fn: TargetRef; args: Encoded };
  /** Module URLs the worker may import (their hosts get `--allow-import`). */
  importUrls: (string | undefined)[];
}

/** Worker processes alive, killed when this runtime exits (a pool left open must not linger). */
const liveWorkers = new Set<{ kill(signal: "SIGTERM" | "SIGKILL"): boolean }>();
let exitHook = false;

function trackWorker(handle: { kill(signal: "SIGTERM" | "SIGKILL"): boolean }): void {
  if (!exitHook) {
    exitHook = true;
    onRuntimeExit(() => {
      for (const worker of liveWorkers) worker.kill("SIGKILL");
    });
  }
  liveWorkers.add(handle);
}

const PROCESS_ENTRY = new URL("./_pool_worker.ts", import.meta.url).href;
const THREAD_ENTRY = new URL("./_pool_thread.ts", import.meta.url).href;

/**
 * The Unix socket a process pool's workers connect to. It listens only
 * while a worker is starting: a pending accept would keep the program alive.
 */
export class PoolSocket {
  #listener: StreamListener | undefined;
  #path = "";
  #waiting = new Map<string, (conn: StreamConn) => void>();
  #count = 0;
  /** The key every worker of this socket says in its hello (see `_internal/hello.ts`). */
  readonly #key = randomKey();

  /**
   * Where a worker connects, the key it says, and the token that names it
   * (its hello's route); `onConnect` gets its connection.
   */
  expect(onConnect: (conn: StreamConn) => void): { path: string; key: string; token: string } {
    if (!this.#listener) {
      checkSocketPermission("start a process pool");
      // Short (a socket path has at most 107 bytes, see private_dir.ts); random, as the
      // threads of this process share its folder.
      this.#path = `${runtimeDir()}/pool-${randomKey(3)}-${++this.#count % 1000}.sock`;
      this.#listener = listenUnix(this.#path);
      this.#accept(this.#listener);
    }
    const token = randomKey(16);
    this.#waiting.set(token, onConnect);
    return { path: this.#path, key: this.#key, token };
  }

  /** Gives up waiting for a token (its worker died before connecting). */
  forget(token: string): void {
    this.#waiting.delete(token);
    if (this.#waiting.size === 0) this.close();
  }

  async #accept(listener: StreamListener): Promise<void> {
    for (;;) {
      let conn: StreamConn;
      try {
        conn = await listener.accept();
      } catch {
        return; // Closed.
      }
      this.#greet(conn);
    }
  }

  async #greet(conn: StreamConn): Promise<void> {
    // A wrong, malformed, oversized or late hello drops that connection only.
    const token = (await readHello(conn, this.#key))?.route;
    const onConnect = token === undefined ? undefined : this.#waiting.get(token);
    if (!onConnect) {
      conn.close();
      return;
    }
    this.forget(token!);
    onConnect(conn);
  }

  /** Stops listening. */
  close(): void {
    this.#listener?.close();
    this.#listener = undefined;
    this.#waiting.clear();
  }
}

/** Starts worker process `n` of a pool. */
export function spawnProcessWorker(
  socket: PoolSocket,
  setup: WorkerSetup,
  n: number,
): WorkerChannel {
  const name = setup.name(n);
  let handler: (messages: FromWorker[]) => void = () => {};
  let conn: StreamConn | undefined;
  let referenced = true;
  let onConnected!: () => void;
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  let readDone: Promise<void> = Promise.resolve();
  let writer: BatchWriter<ToWorker> | undefined;
  /** Messages sent before the worker connected. */
  let early: ToWorker[] = [];
  const { path, key, token } = socket.expect((c) => {
    conn = c;
    if (!referenced) c.unref();
    writer = new BatchWriter<ToWorker>((bytes) => c.write(bytes), () => c.close());
    readDone = readFrames(c, (frame) => handler(frame as FromWorker[])).catch(() => {});
    if (early.length > 0) writer.send(early);
    early = [];
    onConnected();
  });
  const me = processIdentity();
  const handle = spawnRuntime(PROCESS_ENTRY, { importUrls: [PROCESS_ENTRY, ...setup.importUrls] });
  const start: WorkerStart = {
    version: WORKER_START_VERSION,
    name,
    identity: {
      name,
      daemon: true,
      identity: [...(me?.identity ?? []), n],
      parentPid: currentPid(),
      parentName: me?.name ?? "MainProcess",
      parentDir: runtimeDir(),
    },
    path,
    key,
    token,
    init: setup.init,
  };
  handle.write(encodeFrame(start));
  trackWorker(handle);
  const exited = handle.status.then(async (status) => {
    liveWorkers.delete(handle);
    socket.forget(token);
    // Everything the worker wrote before it died is read before its tasks are called lost.
    if (conn) await readDone;
    conn?.close();
    return { code: status.code, signal: status.signal };
  });
  return {
    label: `${name} (pid ${handle.pid})`,
    pid: handle.pid,
    connected,
    exited,
    send(messages) {
      if (writer) writer.send(messages);
      else early.push(...messages);
    },
    onMessages: (h) => void (handler = h),
    ref() {
      referenced = true;
      handle.ref();
      conn?.ref();
    },
    unref() {
      referenced = false;
      handle.unref();
      conn?.unref();
    },
    kill: () => void handle.kill("SIGKILL"),
  };
}

/** Starts worker thread `n` of a pool. */
export function spawnThreadWorker(setup: WorkerSetup, n: number): WorkerChannel {
  const name = setup.name(n);
  let handler: (messages: FromWorker[]) => void = () => {};
  const start: WorkerStart = {
    version: WORKER_START_VERSION,
    name,
    shared: processShared(),
    process: processIdentity(),
    init: setup.init,
  };
  const thread = startPoolThread(THREAD_ENTRY, start);
  let label = name;
  let referenced = true;
  let killed = false;
  let started: PoolThread | undefined;
  /** Batches sent before the thread existed, in order. */
  let early: ToWorker[][] = [];
  const post = (t: PoolThread, messages: ToWorker[]) => {
    const { data, transfer } = packBatch(messages);
    t.postMessage(data, transfer);
  };
  const ready = thread.then((t) => {
    for (const batch of early) post(t, batch);
    early = [];
    started = t;
    label = `${name} (thread ${t.threadId})`;
    t.onMessage((data) => handler(unpackBatch<FromWorker>(data)));
    if (!referenced) t.unref();
    if (killed) t.terminate();
    return t;
  });
  return {
    get label() {
      return label;
    },
    pid: null,
    connected: ready.then(() => {}),
    exited: ready.then((t) => t.exited, () => ({ code: 1 })).then((e) => ({
      code: e.code,
      signal: null,
    })),
    send(messages) {
      if (started) post(started, messages);
      else early.push(messages);
    },
    onMessages: (h) => void (handler = h),
    ref() {
      referenced = true;
      ready.then((t) => t.ref());
    },
    unref() {
      referenced = false;
      ready.then((t) => t.unref());
    },
    kill() {
      killed = true;
      ready.then((t) => t.terminate());
    },
  };
}

/** The module URLs a worker may need to import: the caller's, the main module, remote ones seen. */
export function importUrlsFor(caller: string | undefined): (string | undefined)[] {
  return [caller, mainModuleUrl(), ...remoteModulesSeen()];
}
