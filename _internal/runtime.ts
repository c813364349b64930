/**
 * The only module that touches the host runtime's process, worker and
 * permission APIs (`Deno.Command`, `Deno.execPath`, `Deno.permissions`,
 * `Deno.kill`, `new Worker`). The npm build swaps this file for a Node
 * implementation with the same exports, so nothing else in the library may
 * call those APIs directly.
 *
 * @module
 */

export type * from "./runtime_types.ts";
import { poolThread } from "./pool_thread.ts";
import type {
  ChildHandle,
  HelperThread,
  NetConn,
  NetListener,
  PoolThread,
  SharedFile,
  SharedMapping,
  SocketAddress,
  SpawnOptions,
  StreamConn,
  StreamListener,
  ThreadHandle,
} from "./runtime_types.ts";

/**
 * Starts a new runtime running `entry` (a module URL) with the parent's
 * permissions, inheriting stdout and stderr, with a piped stdin used as the
 * control channel.
 */
export function spawnRuntime(entry: string, options: SpawnOptions = {}): ChildHandle {
  const args = [
    "run",
    ...permissionFlags([entry, ...(options.importUrls ?? [])]),
    ...(options.runtimeArgs ?? []),
    entry,
  ];
  const command = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "piped",
    stdout: "inherit",
    stderr: "inherit",
  });
  const child = command.spawn();
  const writer = child.stdin.getWriter();
  let exited = false;
  const status = child.status.then(
    (s) => {
      exited = true;
      writer.close().catch(() => {});
      return { code: s.code, signal: s.signal };
    },
    () => {
      exited = true;
      return { code: 1, signal: null };
    },
  );
  return {
    pid: child.pid,
    status,
    async write(bytes) {
      try {
        await writer.write(bytes);
      } catch {
        // The child is gone; its status reports why.
      }
    },
    kill(signal) {
      if (exited) return false;
      try {
        child.kill(signal);
        return true;
      } catch {
        return false;
      }
    },
    ref: () => child.ref(),
    unref: () => child.unref(),
  };
}

const PERMISSIONS = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;

let cachedFlags: string[] | undefined;

/**
 * Runtime flags that give a child the same permissions as this process.
 *
 * Deno has no permission inheritance for subprocesses, so the flags are rebuilt
 * from `Deno.permissions.querySync`: all granted gives `-A`, otherwise one
 * `--allow-*` per granted name and `--deny-*` per denied one. Scoped grants
 * are invisible to a global query, except that `import` is queried for the
 * hosts of the library and of `imports` (the child's entry, the target's
 * module…), so code imported by URL still loads in the child.
 */
export function permissionFlags(imports: (string | undefined)[] = []): string[] {
  if (!cachedFlags) {
    const states = PERMISSIONS.map((name) =>
      [name, Deno.permissions.querySync({ name } as Deno.PermissionDescriptor).state] as const
    );
    if (states.every(([, state]) => state === "granted")) {
      cachedFlags = ["-A"];
    } else {
      cachedFlags = [];
      for (const [name, state] of states) {
        if (state === "granted") cachedFlags.push(`--allow-${name}`);
        else if (state === "denied") cachedFlags.push(`--deny-${name}`);
      }
    }
  }
  if (cachedFlags[0] === "-A") return cachedFlags;
  const hosts = new Set<string>();
  for (const url of [import.meta.url, ...imports]) {
    if (url && /^https?:/.test(url)) hosts.add(new URL(url).host);
  }
  const extra: string[] = [];
  for (const host of hosts) {
    const state = Deno.permissions.querySync({ name: "import", host }).state;
    if (state === "granted") extra.push(`--allow-import=${host}`);
  }
  return [...cachedFlags, ...extra];
}

/** This process's id. */
export function currentPid(): number {
  return Deno.pid;
}

/** This process's parent id (a live value: it changes when the parent dies). */
export function currentPpid(): number {
  return Deno.ppid;
}

/** Whether a process with this pid exists (signal 0). */
export function pidExists(pid: number): boolean {
  try {
    Deno.kill(pid, 0 as unknown as Deno.Signal);
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound);
  }
}

/**
 * Whether process `pid` is running: it exists and is not a zombie (a child
 * killed but not yet reaped still has a pid). Used to tell that the holder of
 * a lock in shared memory died.
 */
export function pidAlive(pid: number): boolean {
  const lib = libc();
  if (lib ? lib.symbols.kill(pid, 0) !== 0 : !pidExists(pid)) return false;
  const stat = `/proc/${pid}/stat`;
  if (Deno.permissions.querySync({ name: "read", path: stat }).state !== "granted") return true;
  try {
    const text = Deno.readTextFileSync(stat);
    const state = text.slice(text.lastIndexOf(")") + 2, text.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch (error) {
    // Gone between the two checks (NotFound). Anything else cannot tell: Deno reads another
    // process's /proc files only with --allow-all (NotCapable otherwise), so kill(pid, 0) stands.
    return !(error instanceof Deno.errors.NotFound);
  }
}

// ---------------------------------------------------------------------------
// Memory shared between processes (Linux, with --allow-ffi)

const LIBC_SYMBOLS = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  // syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3); variadic, called with integers only.
  futexWake: {
    name: "syscall",
    parameters: ["i64", "pointer", "i64", "i64", "pointer", "pointer", "i64"],
    result: "i64",
  },
  // The same call for FUTEX_WAIT, run in the runtime's blocking pool so no event loop stops.
  futexWait: {
    name: "syscall",
    parameters: ["i64", "pointer", "i64", "i64", "buffer", "pointer", "i64"],
    result: "i64",
    nonblocking: true,
  },
} as const;

type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>;

const SYS_FUTEX: Record<string, bigint> = { x86_64: 202n, aarch64: 98n };
const FUTEX_WAIT = 0n;
const FUTEX_WAKE = 1n;
const O_RDWR_CLOEXEC = 0o2 | 0o2000000;
const PROT_READ_WRITE = 3;
const MAP_SHARED = 1;

let libcState: Libc | null | undefined;

/** libc through FFI, or null where the host cannot (not Linux, no --allow-ffi, opted out). */
function libc(): Libc | null {
  if (libcState !== undefined) return libcState;
  libcState = null;
  if (Deno.build.os !== "linux" || !(Deno.build.arch in SYS_FUTEX)) return null;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
  const variable = "MULTIPROC_SHARED_MEMORY";
  if (
    Deno.permissions.querySync({ name: "env", variable }).state === "granted" &&
    Deno.env.get(variable) === "0"
  ) {
    return null;
  }
  try {
    libcState = Deno.dlopen("libc.so.6", LIBC_SYMBOLS);
  } catch {
    libcState = null; // Not glibc (musl, say): fall back to files.
  }
  return libcState;
}

/**
 * Whether this process can map memory shared with other processes (Deno on
 * Linux with `--allow-ffi`, unless `MULTIPROC_SHARED_MEMORY=0`). The answer
 * is the same for the whole process.
 */
export function canMapShared(): boolean {
  return libc() !== null;
}

/**
 * Maps the first `bytes` of the file at `path` (extended with zeros if
 * shorter) into shared memory. Throws where {@linkcode canMapShared} is false.
 */
export function mapShared(path: string, bytes: number): SharedMapping {
  const lib = libc();
  if (!lib) throw new Error("Shared memory between processes needs Linux and --allow-ffi");
  const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  try {
    // Never shrink (another process may be using it); growing fills with zeros.
    if (file.statSync().size < bytes) file.truncateSync(bytes);
  } finally {
    file.close();
  }
  const fd = lib.symbols.open(new TextEncoder().encode(path + "\0"), O_RDWR_CLOEXEC, 0);
  if (fd < 0) throw new Error(`Cannot open ${path} to map it`);
  const pointer = lib.symbols.mmap(null, BigInt(bytes), PROT_READ_WRITE, MAP_SHARED, fd, 0n);
  lib.symbols.close(fd);
  if (pointer === null || Deno.UnsafePointer.value(pointer) === 0xffffffffffffffffn) {
    throw new Error(`Cannot map ${path} into memory`);
  }
  const words = new Int32Array(Deno.UnsafePointerView.getArrayBuffer(pointer, bytes));
  const sys = SYS_FUTEX[Deno.build.arch];
  let mapped = true;
  return {
    words,
    async wait(index, expected, timeoutMs) {
      if (!mapped) return;
      const ms = Math.max(0, Math.min(timeoutMs, 2 ** 31 - 1));
      const timespec = new BigInt64Array([
        BigInt(Math.floor(ms / 1000)),
        BigInt(Math.floor((ms % 1000) * 1e6)),
      ]);
      const address = Deno.UnsafePointer.offset(pointer, index * 4);
      await lib.symbols.futexWait(sys, address, FUTEX_WAIT, BigInt(expected), timespec, null, 0n);
    },
    wake(index, count) {
      if (!mapped) return;
      const address = Deno.UnsafePointer.offset(pointer, index * 4);
      lib.symbols.futexWake(sys, address, FUTEX_WAKE, BigInt(count), null, null, 0n);
    },
    unmap() {
      if (!mapped) return;
      mapped = false;
      lib.symbols.munmap(pointer, BigInt(bytes));
    },
  };
}

/** Number of logical CPUs. */
export function cpuCount(): number {
  return navigator.hardwareConcurrency;
}

/** URL of the entry module of this runtime, if there is one. */
export function mainModuleUrl(): string | undefined {
  try {
    return Deno.mainModule;
  } catch {
    return undefined;
  }
}

/**
 * Whether the module at `url` is the program's entry module: what
 * `import.meta.main` says in that module (Python's `__name__ == "__main__"`).
 * Never true in a child's copy of the user's module, nor in a worker.
 */
export function isMainModule(url: string): boolean {
  const main = mainModuleUrl();
  return main !== undefined && main === url;
}

/** How a module tests that it is the program's entry module, for messages: Deno's `import.meta.main`. */
export const MAIN_GUARD = "if (import.meta.main)";

/** Runs `fn` when the runtime exits (normally, or through `Deno.exit`). */
export function onRuntimeExit(fn: () => void): void {
  globalThis.addEventListener("unload", fn);
}

/** Sets the code the runtime exits with when its event loop drains. */
export function setExitCode(code: number): void {
  Deno.exitCode = code;
}

/** Exits the runtime at once. */
export function exitNow(code: number): never {
  Deno.exit(code);
}

/** Kills this very process with a signal (used to die "by SIGTERM" like Python). */
export function killSelf(signal: "SIGTERM" | "SIGKILL" | TerminatingSignal): void {
  Deno.kill(Deno.pid, signal);
}

/** Reads exactly `n` bytes from the control pipe (stdin), or fewer at EOF. */
export async function readControl(n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let filled = 0;
  while (filled < n) {
    const got = await Deno.stdin.read(out.subarray(filled));
    if (got === null) break;
    filled += got;
  }
  return out.subarray(0, filled);
}

/** Creates a private (0700) directory named `prefix` + random characters in the system's temporary folder. */
export function makePrivateDir(prefix: string): string {
  const dir = Deno.makeTempDirSync({ prefix });
  Deno.chmodSync(dir, 0o700);
  return dir;
}

/** Creates the private (0700) directory `path`; throws if it exists. */
export function makePrivateSubdir(path: string): void {
  Deno.mkdirSync(path, { mode: 0o700 });
  Deno.chmodSync(path, 0o700);
}

/** Removes a directory tree, ignoring errors (used at exit). Symbolic links are removed, never followed. */
export function removeTree(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch {
    // Already gone or not ours to remove.
  }
}

/**
 * The text of `/proc/<pid>/stat`: `null` when there is no such process,
 * `undefined` when it cannot be told (no `/proc`, or no read permission).
 */
export function readProcStat(pid: number): string | null | undefined {
  const stat = `/proc/${pid}/stat`;
  if (Deno.permissions.querySync({ name: "read", path: stat }).state !== "granted") {
    return undefined;
  }
  try {
    return Deno.readTextFileSync(stat);
  } catch (error) {
    return error instanceof Deno.errors.NotFound ? null : undefined;
  }
}

/** What `/proc/self/ns/pid` links to (`pid:[<inode>]`): which pid namespace this process is in. */
export function pidNamespace(): string | undefined {
  const link = "/proc/self/ns/pid";
  if (Deno.permissions.querySync({ name: "read", path: link }).state !== "granted") {
    return undefined;
  }
  try {
    return Deno.readLinkSync(link);
  } catch {
    return undefined;
  }
}

/**
 * The real directories (not symbolic links) in `path` whose names start
 * with `prefix`, with their owners' user ids; empty if unreadable.
 */
export function listSubdirs(path: string, prefix: string): { name: string; uid: number | null }[] {
  const found: { name: string; uid: number | null }[] = [];
  try {
    for (const entry of Deno.readDirSync(path)) {
      if (!entry.isDirectory || !entry.name.startsWith(prefix)) continue;
      try {
        const info = Deno.lstatSync(`${path}/${entry.name}`);
        if (info.isDirectory) found.push({ name: entry.name, uid: info.uid });
      } catch {
        // Removed meanwhile.
      }
    }
  } catch {
    // Not readable: nothing to report.
  }
  return found;
}

/**
 * Runs `fn` when the runtime is about to end the program because of an
 * uncaught error or an unhandled rejection that no listener of the program
 * handles (with `preventDefault()`), provided `armed()` says so then. The
 * program still ends exactly as it would have: the runtime's own report,
 * exit code 1. Call it in the main thread, before the program adds
 * listeners of its own (at import).
 *
 * Deno ends the program right after dispatching the event unless a listener
 * prevented its default; nothing runs after that, not even a microtask. So
 * this listener, the first one, prevents the default (the runtime then
 * finishes the dispatch and carries on), and notes whether a later listener
 * prevents it too. In a microtask after the dispatch, either the program
 * handled the error and nothing more happens, or `fn` runs and the same
 * error is raised again; this listener then lets it through and keeps the
 * program's listeners, which have seen it once already, from seeing it
 * twice.
 */
export function onFatalError(armed: () => boolean, fn: () => void): void {
  let raising = false;
  const listener = (event: Event) => {
    if (raising) {
      event.stopImmediatePropagation();
      return;
    }
    if (event.defaultPrevented || !armed()) return;
    // An error event without an error (one from a worker, say) could not be raised again as it was.
    if (event.type === "error" && (event as ErrorEvent).error === undefined) return;
    let handled = false;
    const preventDefault = event.preventDefault.bind(event);
    Object.defineProperty(event, "preventDefault", {
      value: () => {
        handled = true;
        preventDefault();
      },
    });
    preventDefault();
    queueMicrotask(() => {
      if (handled) return;
      fn();
      raising = true;
      if (event.type === "error") {
        const error = (event as ErrorEvent).error;
        queueMicrotask(() => {
          throw error;
        });
      } else Promise.reject((event as PromiseRejectionEvent).reason);
    });
  };
  globalThis.addEventListener("error", listener);
  globalThis.addEventListener("unhandledrejection", listener);
}

/** The signals whose default action ends a process and which a program can listen for. */
export type TerminatingSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

const TERMINATING_SIGNALS: readonly TerminatingSignal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * Removes the tree `dir` when SIGINT, SIGTERM or SIGHUP would end this
 * process, which then dies by that signal as it would have.
 *
 * A signal listener in Deno replaces the signal's default action, and runs
 * only when its thread's event loop gets to it: in the main thread, a busy
 * program could no longer be stopped with Ctrl-C (and `deno test` counts
 * the listener as a leak). So the listeners live in a helper thread of
 * their own, which is idle; it removes the tree, removes its listeners and
 * raises the signal again. Raising needs `--allow-run`: without it nothing
 * is installed (the next program's sweep removes the folder). A program
 * that listens for the same signal receives it a second time (the raised
 * one) and carries on.
 */
export function removeTreeOnSignal(dir: string): Promise<void> {
  if (Deno.permissions.querySync({ name: "run" }).state !== "granted") return Promise.resolve();
  return startHelperThread(new URL("./_signal_worker.ts", import.meta.url).href, dir).then(
    (thread) =>
      new Promise<void>((resolve) => {
        thread.onMessage(() => resolve());
        thread.onError(() => resolve()); // Nothing is watched; the sweep remains.
      }),
    () => {},
  );
}

/**
 * The listeners of {@linkcode removeTreeOnSignal}, installed in its helper
 * thread. A pending signal listener does not keep a thread alive, so a
 * timer does (the thread itself is unref'd: it never keeps the process
 * alive).
 */
export function watchTerminatingSignals(dir: string): void {
  setInterval(() => {}, 2 ** 30);
  const onSignal = (signal: TerminatingSignal) => {
    removeTree(dir);
    for (const [name, listener] of listeners) {
      try {
        Deno.removeSignalListener(name, listener);
      } catch {
        // It was never added.
      }
    }
    killSelf(signal);
  };
  const listeners = TERMINATING_SIGNALS.map((name) => [name, () => onSignal(name)] as const);
  for (const [name, listener] of listeners) {
    try {
      Deno.addSignalListener(name, listener);
    } catch {
      // Not a signal on this system (Windows has no SIGTERM or SIGHUP listeners).
    }
  }
}

/** Writes a small file synchronously (error reports). */
export function writeFileText(path: string, text: string): void {
  Deno.writeTextFileSync(path, text);
}

/** Reads and deletes a small file, or returns `undefined` if it is missing. */
export function takeFileText(path: string): string | undefined {
  try {
    const text = Deno.readTextFileSync(path);
    Deno.removeSync(path);
    return text;
  } catch {
    return undefined;
  }
}

/** Reads a module's source text (for locating exported targets). */
export async function readModuleSource(url: string): Promise<string> {
  if (url.startsWith("file:")) return await Deno.readTextFile(new URL(url));
  // A text import needs only --allow-import (which loading the module needed anyway), not
  // --allow-net, and is served from the module cache.
  const module = await import(url, { with: { type: "text" } });
  return module.default as string;
}

/** Reads a local (`file:`) module's source text synchronously. */
export function readModuleSourceSync(url: string): string {
  return Deno.readTextFileSync(new URL(url));
}

/** Resolves a bare or mapped specifier the way the runtime would. */
export function resolveSpecifier(specifier: string, referrer: string): string | undefined {
  if (/^\.{0,2}\//.test(specifier)) return new URL(specifier, referrer).href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(specifier)) return specifier;
  try {
    return import.meta.resolve(specifier);
  } catch {
    return undefined;
  }
}

/** Calls `fn` every `ms` milliseconds without keeping the runtime alive. */
export function everyUnref(ms: number, fn: () => void): void {
  Deno.unrefTimer(setInterval(fn, ms));
}

/** Prints to stderr synchronously (used for child error reports). */
export function printError(text: string): void {
  const bytes = new TextEncoder().encode(text.endsWith("\n") ? text : text + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

/** Opens (creating if needed) a shared file with mode 0600. */
export function openShared(path: string): SharedFile {
  const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  return {
    read(offset, into) {
      file.seekSync(offset, Deno.SeekMode.Start);
      let done = 0;
      while (done < into.length) {
        const n = file.readSync(into.subarray(done));
        if (n === null || n === 0) {
          into.fill(0, done);
          return;
        }
        done += n;
      }
    },
    write(offset, bytes) {
      file.seekSync(offset, Deno.SeekMode.Start);
      let done = 0;
      while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
    },
    tryLock: () => file.tryLockSync(true),
    lock: () => file.lock(true),
    unlock: () => file.unlockSync(),
    close() {
      try {
        file.close();
      } catch {
        // Already closed.
      }
    },
  };
}

function wrapConn(conn: Deno.Conn): StreamConn {
  return {
    read: (into) => conn.read(into),
    async write(bytes) {
      let done = 0;
      while (done < bytes.length) done += await conn.write(bytes.subarray(done));
    },
    close() {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    },
    ref: () => conn.ref(),
    unref: () => conn.unref(),
  };
}

/** Connects to a Unix socket. */
export async function connectUnix(path: string): Promise<StreamConn> {
  return wrapConn(await Deno.connect({ transport: "unix", path }));
}

/** Listens on a Unix socket at `path` (the folder must be private: the socket itself is not). */
export function listenUnix(path: string): StreamListener {
  const listener = Deno.listen({ transport: "unix", path });
  return {
    accept: async () => wrapConn(await listener.accept()),
    close() {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
    },
  };
}

/** Whether an error from {@linkcode connectUnix} means "not listening yet". */
export function isNotListening(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound || error instanceof Deno.errors.ConnectionRefused;
}

/**
 * The URL a `node:worker_threads` worker is started from to run the module
 * at `url`. That API takes only `file:` and `data:` URLs, so a module loaded
 * over http(s) (the library imported by URL, or from JSR) is run through a
 * one-line `data:` module that imports it. The worker keeps this thread's
 * permissions, so the import needs no more than loading the library did.
 */
function nodeWorkerUrl(url: string): URL {
  const parsed = new URL(url);
  if (parsed.protocol === "file:" || parsed.protocol === "data:") return parsed;
  const source = `import ${JSON.stringify(parsed.href)};`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/**
 * Starts a helper thread running `url` with `data` available to it as
 * `workerData`. It uses `node:worker_threads` (also in Deno) because a Web
 * Worker cannot be unref'd: the hub must not keep a finished program alive.
 */
export async function startHelperThread(url: string, data: unknown): Promise<HelperThread> {
  const { Worker } = await import("node:worker_threads");
  const worker = new Worker(nodeWorkerUrl(url), { workerData: data });
  worker.unref();
  return {
    postMessage: (message) => worker.postMessage(message),
    onMessage: (handler) => void worker.on("message", handler),
    onError: (handler) => void worker.on("error", handler),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    terminate: () => void worker.terminate(),
  };
}

/**
 * Starts a pool's worker thread running `url` (a `node:worker_threads`
 * worker, also in Deno, for its exit event and `ref`/`unref`), with `data`
 * available to it as `workerData` (see {@linkcode helperThreadContext}).
 */
export async function startPoolThread(url: string, data: unknown): Promise<PoolThread> {
  const { Worker } = await import("node:worker_threads");
  return poolThread(new Worker(nodeWorkerUrl(url), { workerData: data }));
}

/** The helper-thread side of {@linkcode startHelperThread}: its data and its channel to the parent. */
export async function helperThreadContext(): Promise<{
  data: unknown;
  postMessage(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
}> {
  const { parentPort, workerData } = await import("node:worker_threads");
  if (!parentPort) throw new Error("Cannot run the helper thread outside a worker");
  return {
    data: workerData,
    postMessage: (message) => parentPort.postMessage(message),
    onMessage: (handler) => void parentPort.on("message", handler),
  };
}

/** A random hex key (for authenticating children to a hub). */
export function randomKey(bytes = 32): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Starts a module worker with this thread's permissions (Deno's default for
 * workers). An uncaught error in it never kills this process: it is handed
 * to `onError` (the worker's bootstrap normally reports errors itself).
 *
 * A daemon thread must not keep the program alive (Python's rule), and a
 * Web Worker cannot be unref'd, so daemon threads run on
 * `node:worker_threads` (also a V8 isolate, unref'd); their bootstrap is told
 * so by a `?unref` query. `onExit` is called when the worker ends for any
 * reason (including `Deno.exit` inside it).
 */
export function startThread(url: string, name: string, daemon: boolean): ThreadHandle {
  if (daemon) return startUnrefThread(`${url}?unref`, name);
  const worker = new Worker(url, { type: "module", name });
  let errorHandler: (error: { message: string }) => void = () => {};
  worker.onerror = (event) => {
    event.preventDefault();
    errorHandler({ message: event.message });
  };
  worker.onmessageerror = () =>
    errorHandler({ message: "A message from the thread could not be deserialized" });
  return {
    postMessage: (message, transfer) =>
      worker.postMessage(message, [...(transfer ?? [])] as Transferable[]),
    onMessage: (handler) => {
      worker.onmessage = (event) => handler(event.data);
    },
    onError: (handler) => {
      errorHandler = handler;
    },
    terminate: () => worker.terminate(),
  };
}

function startUnrefThread(url: string, name: string): ThreadHandle {
  let messageHandler: (message: unknown) => void = () => {};
  let errorHandler: (error: { message: string }) => void = () => {};
  let terminated = false;
  const ready = import("node:worker_threads").then(({ Worker: NodeWorker }) => {
    const worker = new NodeWorker(nodeWorkerUrl(url), { name });
    worker.unref();
    worker.on("message", (message: unknown) => messageHandler(message));
    worker.on(
      "error",
      (error: Error) => errorHandler({ message: error?.message ?? String(error) }),
    );
    if (terminated) worker.terminate();
    return worker;
  });
  return {
    postMessage: (message, transfer) =>
      void ready.then((w) => w.postMessage(message, transfer as never)),
    onMessage: (handler) => void (messageHandler = handler),
    onError: (handler) => void (errorHandler = handler),
    terminate: () => {
      terminated = true;
      ready.then((w) => w.terminate());
    },
  };
}

/** Inside a worker: its channel to the thread that started it (a Web Worker or an unref'd one). */
export async function threadSelf(moduleUrl: string): Promise<{
  postMessage(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
  onUncaught(handler: (error: unknown) => void): void;
  onExit(handler: () => void): void;
  close(): void;
}> {
  // deno-lint-ignore no-explicit-any
  const scope = globalThis as any;
  const onUncaught = (handler: (error: unknown) => void) => {
    scope.addEventListener("error", (event: ErrorEvent) => {
      event.preventDefault();
      handler(event.error ?? new Error(event.message));
    });
    scope.addEventListener("unhandledrejection", (event: PromiseRejectionEvent) => {
      event.preventDefault();
      handler(event.reason);
    });
  };
  const onExit = (handler: () => void) => scope.addEventListener("unload", handler);
  if (new URL(moduleUrl).search === "?unref") {
    // Messages wait in the port until a listener is attached, so this await loses nothing.
    const { parentPort } = await import("node:worker_threads");
    return {
      postMessage: (message) => parentPort!.postMessage(message),
      onMessage: (handler) => void parentPort!.on("message", handler),
      onUncaught,
      onExit,
      close: () => parentPort!.close(),
    };
  }
  return {
    postMessage: (message) => scope.postMessage(message),
    onMessage: (handler) => {
      scope.onmessage = (event: MessageEvent) => handler(event.data);
    },
    onUncaught,
    onExit,
    close: () => scope.close(),
  };
}

/** Whether this code runs in a worker thread. */
export function inWorker(): boolean {
  // deno-lint-ignore no-explicit-any
  const scope = globalThis as any;
  return typeof scope.WorkerGlobalScope !== "undefined" && scope instanceof scope.WorkerGlobalScope;
}

// ---------------------------------------------------------------------------
// TCP and Unix stream sockets for `net/` (servers and their relays).

function netAddress(addr: Deno.Addr): SocketAddress {
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return { transport: "tcp", hostname: addr.hostname, port: addr.port };
  }
  return { transport: "unix", path: (addr as Deno.UnixAddr).path };
}

function wrapNetConn(conn: Deno.Conn, tcp: boolean): NetConn {
  if (tcp) {
    try {
      (conn as Deno.TcpConn).setNoDelay(true);
    } catch {
      // Already closed by the peer: the first read will say so.
    }
  }
  const localAddr = netAddress(conn.localAddr);
  const remoteAddr = netAddress(conn.remoteAddr);
  return {
    localAddr,
    remoteAddr,
    get readable() {
      return conn.readable;
    },
    get writable() {
      return conn.writable;
    },
    read: (into) => conn.read(into),
    write: (bytes) => conn.write(bytes),
    closeWrite: () => conn.closeWrite(),
    close() {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    },
    ref: () => conn.ref(),
    unref: () => conn.unref(),
  };
}

function wrapNetListener(listener: Deno.Listener, tcp: boolean): NetListener {
  return {
    addr: netAddress(listener.addr),
    accept: async () => wrapNetConn(await listener.accept(), tcp),
    close() {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
    },
    ref: () => listener.ref(),
    unref: () => listener.unref(),
  };
}

/**
 * Whether Deno's unstable network APIs are enabled in this runtime
 * (`--unstable-net`, or `"unstable": ["net"]` in deno.json). Using one
 * without the flag does not throw: the process exits with code 70, so this
 * must be asked first. `Deno.listenDatagram` exists only under the flag.
 */
export function unstableNetAvailable(): boolean {
  return typeof (Deno as unknown as Record<string, unknown>).listenDatagram === "function";
}

/**
 * Why this process cannot listen with `reusePort` (what a `"prefork-thread"`
 * server needs), as the end of an error message that says what to do, or
 * `undefined` when it can.
 */
export function reusePortUnavailable(): string | undefined {
  if (unstableNetAvailable()) return undefined;
  return "Deno's unstable net APIs are not enabled in this process: run it with --unstable-net " +
    "(prefork threads share the port with reusePort, which needs the flag, and Deno would end " +
    `the process with exit code 70 without it), or use mode "prefork-process", whose children ` +
    "get the flag";
}

/** What to do when a module's source cannot be read to find an exported target (message end). */
export function unreadableSourceHint(): string {
  return "grant --allow-read for local modules or --allow-import for remote ones, or pass the " +
    "target explicitly";
}

/** What to do when the private folder cannot be created in the temporary folder (message end). */
export function privateFolderHint(): string {
  return "grant --allow-write (and --allow-read), or -A";
}

/**
 * Listens on TCP. With `reusePort` (Linux `SO_REUSEPORT`: several sockets,
 * in any processes or threads of this user, share the port and the kernel
 * spreads connections among them), the runtime must have the unstable net
 * APIs: this throws instead of letting Deno end the process.
 *
 * @throws {Error} If `reusePort` is asked for without the unstable net APIs.
 */
export function listenTcp(
  options: { hostname: string; port: number; reusePort?: boolean },
): NetListener {
  if (options.reusePort && !unstableNetAvailable()) {
    throw new Error(
      "Cannot listen with reusePort as Deno's unstable net APIs are not enabled: run deno with --unstable-net",
    );
  }
  const listener = Deno.listen({
    transport: "tcp",
    hostname: options.hostname,
    port: options.port,
    ...(options.reusePort ? { reusePort: true } : {}),
  });
  return wrapNetListener(listener, true);
}

/** Listens on a Unix socket, handing out full connections (streams and half-close). */
export function listenUnixNet(path: string): NetListener {
  return wrapNetListener(Deno.listen({ transport: "unix", path }), false);
}

/** Connects to a Unix socket, as a full connection (streams and half-close). */
export async function connectUnixNet(path: string): Promise<NetConn> {
  return wrapNetConn(await Deno.connect({ transport: "unix", path }), false);
}

/**
 * Throws a clear error unless this process may listen on a Unix socket
 * (Deno asks for `--allow-net` even for a socket file).
 *
 * @param what What is being attempted, for the message.
 */
export function checkSocketPermission(what: string): void {
  if (Deno.permissions.querySync({ name: "net" }).state !== "granted") {
    throw new Error(
      `Cannot ${what}: shared objects are served to other threads and processes over a Unix ` +
        `socket, which Deno allows only with --allow-net (or -A)`,
    );
  }
}

/**
 * Gives an error rebuilt from another process or thread the runtime's own
 * class when its name is one of the runtime's I/O errors (`AddrInUse`,
 * `ConnectionRefused`…), so that `instanceof Deno.errors.AddrInUse` holds
 * wherever it was thrown. Other errors are returned as they are.
 */
export function reviveRuntimeError(error: Error): Error {
  const errors = Deno.errors as unknown as Record<
    string,
    (new (message: string) => Error) | undefined
  >;
  const Class = Object.hasOwn(Deno.errors, error.name) ? errors[error.name] : undefined;
  if (!Class || (error as unknown) instanceof Class) return error;
  const revived = new Class(error.message);
  if (error.stack) revived.stack = error.stack;
  return revived;
}
