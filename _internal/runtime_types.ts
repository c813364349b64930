/**
 * The types of the runtime adapter's interface, shared by `runtime.ts` (Deno,
 * written in `runtime/deno/`) and `runtime_node.ts` (the npm build's Node
 * version, in `runtime/node/`), so that both implement exactly the same
 * shapes.
 *
 * @module
 */

/** How a child process ended, normalised the way Python reports it. */
export interface ChildStatus {
  /** Exit code, or `128 + signo` when killed by a signal (Deno's convention). */
  code: number;
  /** Signal name (`"SIGTERM"`) when the child was killed by a signal, else `null`. */
  signal: string | null;
}

/** A spawned child runtime. */
export interface ChildHandle {
  /** OS process id, known as soon as `spawnRuntime` returns. */
  readonly pid: number;
  /** Resolves once the child has exited and been reaped. Never rejects. */
  readonly status: Promise<ChildStatus>;
  /** Writes bytes to the child's control pipe (its stdin). */
  write(bytes: Uint8Array): Promise<void>;
  /** Sends a signal; returns `false` if the child had already exited. */
  kill(signal: "SIGTERM" | "SIGKILL"): boolean;
  /** Whether the pending exit keeps this process alive (non-daemon children do). */
  ref(): void;
  /** The opposite of {@linkcode ChildHandle.ref}. */
  unref(): void;
}

/** Options for {@linkcode spawnRuntime}. */
export interface SpawnOptions {
  /** Extra runtime flags (Deno: placed before the entry module). */
  runtimeArgs?: string[];
  /** Module URLs the child will import: their hosts get `--allow-import` if this process has it. */
  importUrls?: (string | undefined)[];
}

/**
 * A small file shared by processes and threads: positional reads and writes
 * (the page cache makes them coherent across processes, a stand-in for
 * shared memory that Deno cannot map without FFI) and an exclusive `flock`
 * (per open file description, so two handles exclude each other even in one
 * process, and the kernel releases it when the holder dies).
 */
export interface SharedFile {
  /** Reads `into.length` bytes at `offset` (zero-filled past the end). */
  read(offset: number, into: Uint8Array): void;
  /** Writes `bytes` at `offset`. */
  write(offset: number, bytes: Uint8Array): void;
  /** Takes the exclusive lock if it is free; never blocks. */
  tryLock(): boolean;
  /** Waits for the exclusive lock without blocking the event loop. */
  lock(): Promise<void>;
  /** Releases the exclusive lock. */
  unlock(): void;
  /** Closes the handle (releasing any lock it holds). */
  close(): void;
}

/** A byte stream connection (Unix socket). */
export interface StreamConn {
  /** Reads up to `into.length` bytes; `null` at end of stream. */
  read(into: Uint8Array): Promise<number | null>;
  /** Writes all of `bytes`. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes both directions. */
  close(): void;
  /** A pending read keeps the runtime alive (the default). */
  ref(): void;
  /** A pending read does not keep the runtime alive. */
  unref(): void;
}

/** A listening Unix socket. */
export interface StreamListener {
  accept(): Promise<StreamConn>;
  close(): void;
  /** A pending accept does not keep the runtime alive. */
  unref(): void;
}

/** A background thread of this runtime that does not keep it alive unless ref'd. */
export interface HelperThread {
  postMessage(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
  onError(handler: (error: unknown) => void): void;
  ref(): void;
  unref(): void;
  terminate(): void;
}

/** A thread of this runtime running a module (a Web Worker). */
export interface ThreadHandle {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  /** Receives messages; also uncaught errors the worker could not report itself. */
  onMessage(handler: (message: unknown) => void): void;
  onError(handler: (error: { message: string }) => void): void;
  terminate(): void;
}

/** A socket address: TCP (`hostname`, `port`) or Unix (`path`). */
export interface SocketAddress {
  transport: "tcp" | "unix";
  hostname?: string;
  port?: number;
  path?: string;
}

/** A stream connection, TCP or Unix: the shape of `Deno.Conn`, without Deno types. */
export interface NetConn {
  readonly localAddr: SocketAddress;
  readonly remoteAddr: SocketAddress;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Reads up to `into.length` bytes; `null` at end of stream. */
  read(into: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes`; returns how many. */
  write(bytes: Uint8Array): Promise<number>;
  /** Shuts down the writing side (the peer reads end of stream). */
  closeWrite(): Promise<void>;
  /** Closes the connection; a pending read rejects. */
  close(): void;
  ref(): void;
  unref(): void;
}

/** A listening socket, TCP or Unix. */
export interface NetListener {
  /** The bound address (the real port when 0 was asked for). */
  readonly addr: SocketAddress;
  /** The next connection; rejects once the listener is closed. */
  accept(): Promise<NetConn>;
  /** Stops listening; harmless when already closed. */
  close(): void;
  ref(): void;
  unref(): void;
}

/** How `mapShared` opens the file it maps. */
export interface MapOptions {
  /** Only a file that exists (else it is made). */
  existing?: boolean;
  /**
   * Also take an exclusive `flock` on the file (failing if another holds
   * it), held until `unmap()` or the process's end: others can tell that the
   * mapping's owner is alive.
   */
  lock?: boolean;
}

/**
 * A file mapped into memory shared between processes (`mmap` with
 * `MAP_SHARED`), with futex waits on its 32-bit words. Only where the host
 * can do it (Deno on Linux with `--allow-ffi`): see `canMapShared`.
 */
export interface SharedMapping {
  /** The mapped bytes as 32-bit words (Atomics work on them). */
  readonly words: Int32Array;
  /**
   * Waits (off the event loop) while word `index` equals `expected`, for at
   * most `timeoutMs`; resolves on a wake-up, a changed value or the timeout
   * (the caller re-checks).
   */
  wait(index: number, expected: number, timeoutMs: number): Promise<void>;
  /** Wakes up to `count` waiters on word `index` (in any process). */
  wake(index: number, count: number): void;
  /** Unmaps it; `words` must not be touched afterwards. */
  unmap(): void;
}

/** How a pool thread ended. */
export interface ThreadExit {
  /** The thread's exit code (`Deno.exit(n)` / `process.exit(n)` in it; 1 after an uncaught error). */
  code: number;
  /** The uncaught error that ended it, if any. */
  error?: unknown;
}

/** A worker thread of a pool: a channel, its exit, and whether it keeps the program alive. */
export interface PoolThread {
  /** The runtime's id of the thread. */
  readonly threadId: number;
  /** Posts `message`, handing over the buffers in `transfer` (they are detached here). */
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  onMessage(handler: (message: unknown) => void): void;
  /** Resolves once the thread has ended, for any reason. Never rejects. */
  readonly exited: Promise<ThreadExit>;
  /** The thread keeps the program alive (the default). */
  ref(): void;
  /** The thread does not keep the program alive. */
  unref(): void;
  /** Stops the thread at once; resolves when it is gone. */
  terminate(): Promise<void>;
}

/** The helper-thread side of `startHelperThread`: its data and its channel to the parent. */
export interface HelperContext {
  /** What the parent passed to `startHelperThread`. */
  data: unknown;
  postMessage(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
}

/** Inside a thread started by `startThread`: its channel to the thread that started it. */
export interface ThreadSelf {
  postMessage(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
  /** Receives the thread's uncaught errors and unhandled rejections, which then do not end it. */
  onUncaught(handler: (error: unknown) => void): void;
  /** Runs `handler` when the thread ends. */
  onExit(handler: () => void): void;
  /** Ends the thread (messages already posted are delivered). */
  close(): void;
}
