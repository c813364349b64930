/**
 * The Node.js implementation of `runtime.ts`, with the same exports and
 * signatures: the npm build (`tools/build_npm.ts`) compiles this file as
 * `_internal/runtime.js`, so the rest of the library runs unchanged on
 * Node ≥ 20. Like `runtime.ts`, it is the only module of the build that
 * touches the host's process, worker, file and socket APIs.
 *
 * Where Node differs from Deno, and what this file does about it:
 * - No permissions: a child is `node <entry>` with this process's Node
 *   flags (`--import tsx` and the like, but not `--test`, `--eval` or
 *   `--inspect`); `permissionFlags()` is empty, `checkSocketPermission` passes.
 * - No `flock`: `SharedFile` locks with an exclusive lock file beside the
 *   shared file (see {@linkcode openShared}), whose holder's pid makes a
 *   lock left by a dead process stale, so "a lock whose holder dies is
 *   released" still holds (for a process; not for a killed thread).
 * - No Web Worker: threads are `node:worker_threads` workers (daemon threads
 *   unref'd ones), and a worker's uncaught errors and exit are caught with
 *   `process` events. A worker gets its parent's flags but not its loader
 *   hooks, so under `node --import tsx` {@linkcode threadSelf} registers
 *   tsx in the worker before the thread imports its (`.ts`) target.
 * - Children import modules by file URL: a bundle that inlined the library
 *   has no `process/_bootstrap.js` beside it, which {@linkcode spawnRuntime}
 *   and {@linkcode startThread} report as "the program looks bundled".
 * - No `import.meta.main`: the main module is `process.argv[1]`, and
 *   {@linkcode isMainModule} compares a module's URL with it (never the main
 *   module inside a worker).
 * - `net.Server.listen` with a host binds asynchronously, but `listenTcp`
 *   must return the bound port at once (Python's constructor binds), so an
 *   IP address is bound synchronously with `net._createServerHandle` (what
 *   `listen` calls after its lookup) and the listening handle handed to
 *   `net.Server.listen`; no `process.binding` (deprecated, DEP0111). For a
 *   host name it falls back to an asynchronous bind (and `addr` shows the
 *   port asked for until bound). `reusePort` (prefork servers) exists only
 *   from Node 22.12 / 23.1.
 *
 * @module
 */

export type * from "./runtime_types.ts";
import { poolThread } from "./pool_thread.ts";
import type {
  ChildHandle,
  ChildStatus,
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

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { getSystemErrorName } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

/** Node flags of this process that must not reach a child: they would change what it runs. */
const DROP_FLAGS =
  /^(--test|--experimental-test|--watch|--inspect|--debug|--eval$|-e$|--print$|-p$|--input-type|--interactive$|-i$|--check$|-c$|--prof|--cpu-prof|--heap-prof|--diagnostic-dir|--redirect-warnings|--report)/;
/** Of those, the ones whose value is the next argument when not given with `=`. */
const DROP_WITH_VALUE =
  /^(--test-reporter|--test-reporter-destination|--test-name-pattern|--test-skip-pattern|--test-concurrency|--test-timeout|--test-shard|--watch-path|--inspect-port|--debug-port|--eval|-e|--print|-p|--input-type|--diagnostic-dir|--redirect-warnings|--cpu-prof-dir|--cpu-prof-name|--heap-prof-dir|--heap-prof-name|--report-dir|--report-directory|--report-filename)$/;
/** `deno run` flags, which mean nothing to Node (permissions, unstable features, reload…). */
const DENO_FLAGS =
  /^(-A$|--allow-|--deny-|--unstable|--no-prompt|--reload|-r$|--no-check|--check=|--cached-only|--lock|--no-lock|--import-map|--config|--no-config|--node-modules-dir|--vendor|--quiet$|-q$|--location|--seed|--v8-flags|--cert|--unsafely-ignore|--no-remote|--no-npm|--env-file=)/;

/** This process's Node flags that a child should get too (`--import tsx`, memory limits…). */
function inheritedNodeFlags(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (DROP_FLAGS.test(arg)) {
      if (DROP_WITH_VALUE.test(arg)) i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** `runtimeArgs` as Node flags: Deno's own flags are dropped (`--v8-flags=a,b` becomes `a b`). */
function nodeFlags(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (arg.startsWith("--v8-flags=")) {
      out.push(
        ...arg.slice("--v8-flags=".length).split(",").filter((f) => f.length > 0),
      );
    } else if (!DENO_FLAGS.test(arg)) {
      out.push(arg);
    }
  }
  return out;
}

function signalNumber(signal: string): number {
  return (os.constants.signals as Record<string, number>)[signal] ?? 0;
}

/**
 * Throws a clear error when the library's own entry module for a child
 * (`process/_bootstrap.js`…) is missing: the library was bundled into the
 * program, so `new URL("./_bootstrap.js", import.meta.url)` names a file
 * beside the bundle that does not exist. Children import modules by URL,
 * so the library and every module that exports a target must stay files.
 */
function checkEntryFile(entry: string, what: string): void {
  if (!entry.startsWith("file:") || fs.existsSync(new URL(entry))) return;
  throw new Error(
    `Cannot start ${what} as the library's entry module ${fileURLToPath(entry)} does not ` +
      `exist: the program looks bundled. A child process or thread imports the library and its ` +
      `target's module by URL, so keep @multiproc/multiproc external (esbuild --external, or ` +
      `--packages=external) and the modules that export targets as separate files`,
  );
}

/**
 * Starts a new Node process running `entry` (a `file:` module URL) with this
 * process's Node flags, inheriting stdout and stderr, with a piped stdin
 * used as the control channel.
 */
export function spawnRuntime(
  entry: string,
  options: SpawnOptions = {},
): ChildHandle {
  if (!entry.startsWith("file:")) {
    throw new Error(
      `Cannot start a child process from ${entry}: on Node.js the library must be installed ` +
        `locally (Node cannot run a module loaded over http)`,
    );
  }
  checkEntryFile(entry, "a child process");
  const args = [
    ...inheritedNodeFlags(),
    ...nodeFlags(options.runtimeArgs ?? []),
    fileURLToPath(entry),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ["pipe", "inherit", "inherit"],
  });
  // The control pipe is a socket: it can be unref'd along with the child.
  const stdin = child.stdin! as unknown as net.Socket;
  // A write to a child that has exited fails with EPIPE; its status says why.
  stdin.on("error", () => {});
  let exited = false;
  let referenced = true;
  const status = new Promise<ChildStatus>((resolve) => {
    const done = (s: ChildStatus) => {
      if (exited) return;
      exited = true;
      stdin.destroy();
      resolve(s);
    };
    child.once("exit", (code, signal) => {
      done(
        signal ? { code: 128 + signalNumber(signal), signal } : { code: code ?? 1, signal: null },
      );
    });
    child.once("error", () => done({ code: 1, signal: null }));
  });
  return {
    pid: child.pid ?? 0,
    status,
    write(bytes) {
      if (exited || stdin.destroyed) return Promise.resolve();
      return new Promise<void>((resolve) => {
        stdin.write(bytes, () => resolve());
        // The pipe must not keep this process alive by itself when the child is unref'd.
        if (!referenced) stdin.unref();
      });
    },
    kill(signal) {
      if (exited) return false;
      try {
        return child.kill(signal);
      } catch {
        return false;
      }
    },
    ref() {
      referenced = true;
      child.ref();
      stdin.ref();
    },
    unref() {
      referenced = false;
      child.unref();
      stdin.unref();
    },
  };
}

/** Runtime flags that give a child this process's permissions: none on Node, which has no permissions. */
export function permissionFlags(
  _imports: (string | undefined)[] = [],
): string[] {
  return [];
}

/** This process's id. */
export function currentPid(): number {
  return process.pid;
}

/** This process's parent id (a live value: it changes when the parent dies). */
export function currentPpid(): number {
  return process.ppid;
}

/** Whether a process with this pid exists (signal 0). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** Whether process `pid` is running: it exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  if (!pidExists(pid)) return false;
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = text.slice(text.lastIndexOf(")") + 2, text.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch (error) {
    // No /proc (macOS): the signal check is all there is.
    return (error as NodeJS.ErrnoException).code !== "ENOENT" || !fs.existsSync("/proc/self");
  }
}

/**
 * Whether this process can map memory shared with other processes: never on
 * Node (it has no FFI), so locks between processes use lock files.
 */
export function canMapShared(): boolean {
  return false;
}

/** Not available on Node: see {@linkcode canMapShared}. */
export function mapShared(path: string, _bytes: number): SharedMapping {
  throw new Error(
    `Cannot map ${path}: shared memory between processes needs Deno with --allow-ffi`,
  );
}

/** Number of logical CPUs. */
export function cpuCount(): number {
  return typeof os.availableParallelism === "function"
    ? os.availableParallelism()
    : os.cpus().length;
}

let mainUrl: string | null | undefined;

/** The URL Node's loader gives the entry file `process.argv[1]` (real path, extension found). */
function findMainUrl(): string | null {
  const file = process.argv[1];
  if (!isMainThread || !file) return null;
  for (const candidate of [file, `${file}.js`, `${file}.mjs`, `${file}.cjs`]) {
    try {
      if (fs.statSync(candidate).isFile()) {
        return pathToFileURL(fs.realpathSync(candidate)).href;
      }
    } catch {
      // Try the next extension.
    }
  }
  return pathToFileURL(path.resolve(file)).href;
}

/** URL of the entry module of this runtime, if there is one (none in a worker, or under `node -e`). */
export function mainModuleUrl(): string | undefined {
  if (mainUrl === undefined) mainUrl = findMainUrl();
  return mainUrl ?? undefined;
}

/**
 * Whether the module at `url` is the program's entry module: Deno's
 * `import.meta.main`, Python's `__name__ == "__main__"`. Never true in a
 * child's copy of the user's module, nor in a worker.
 */
export function isMainModule(url: string): boolean {
  const main = mainModuleUrl();
  return main !== undefined && main === url;
}

/** How a module tests that it is the program's entry module, for messages: the library's `isMain`. */
export const MAIN_GUARD = "if (isMain(import.meta))";

/** Runs `fn` when the runtime exits (normally, or through `process.exit`). */
export function onRuntimeExit(fn: () => void): void {
  process.on("exit", () => fn());
}

/** Sets the code the runtime exits with when its event loop drains. */
export function setExitCode(code: number): void {
  process.exitCode = code;
}

/** Exits the runtime at once. */
export function exitNow(code: number): never {
  process.exit(code);
}

/** Kills this very process with a signal (used to die "by SIGTERM" like Python). */
export function killSelf(signal: "SIGTERM" | "SIGKILL" | TerminatingSignal): void {
  process.kill(process.pid, signal);
}

function readFd(fd: number, into: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(
      fd,
      into,
      0,
      into.length,
      null,
      (error, n) => (error ? reject(error) : resolve(n)),
    );
  });
}

/**
 * Reads exactly `n` bytes from the control pipe (stdin), or fewer at EOF.
 * It reads the file descriptor directly, never more than asked, so nothing
 * is left pending on stdin that would keep the child alive afterwards.
 */
export async function readControl(n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let filled = 0;
  while (filled < n) {
    let got: number;
    try {
      got = await readFd(0, out.subarray(filled));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EAGAIN" || code === "EINTR") {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      break; // EOF-like: no parent on the other end.
    }
    if (got === 0) break;
    filled += got;
  }
  return out.subarray(0, filled);
}

/** Creates a private (0700) directory named `prefix` + random characters in the system's temporary folder. */
export function makePrivateDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o700);
  return dir;
}

/** Creates the private (0700) directory `target`; throws if it exists. */
export function makePrivateSubdir(target: string): void {
  fs.mkdirSync(target, { mode: 0o700 });
  fs.chmodSync(target, 0o700);
}

/** Removes a directory tree, ignoring errors (used at exit). Symbolic links are removed, never followed. */
export function removeTree(target: string): void {
  try {
    fs.rmSync(target, { recursive: true, force: true });
  } catch {
    // Already gone or not ours to remove.
  }
}

/**
 * The text of `/proc/<pid>/stat`: `null` when there is no such process,
 * `undefined` when it cannot be told (no `/proc`).
 */
export function readProcStat(pid: number): string | null | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") return undefined;
    return fs.existsSync("/proc/self/stat") ? null : undefined;
  }
}

/** What `/proc/self/ns/pid` links to (`pid:[<inode>]`): which pid namespace this process is in. */
export function pidNamespace(): string | undefined {
  try {
    return fs.readlinkSync("/proc/self/ns/pid");
  } catch {
    return undefined;
  }
}

/**
 * The real directories (not symbolic links) in `target` whose names start
 * with `prefix`, with their owners' user ids; empty if unreadable.
 */
export function listSubdirs(
  target: string,
  prefix: string,
): { name: string; uid: number | null }[] {
  const found: { name: string; uid: number | null }[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(target);
  } catch {
    return found;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    try {
      const info = fs.lstatSync(path.join(target, name));
      if (info.isDirectory()) found.push({ name, uid: info.uid });
    } catch {
      // Removed meanwhile.
    }
  }
  return found;
}

/**
 * Runs `fn` when Node is about to end the program because of an uncaught
 * exception or an unhandled rejection, provided `armed()` says so then.
 * `uncaughtExceptionMonitor` listeners leave Node's behaviour as it is; the
 * program ends unless it has an `uncaughtException` listener of its own.
 */
export function onFatalError(armed: () => boolean, fn: () => void): void {
  process.on("uncaughtExceptionMonitor", () => {
    if (process.listenerCount("uncaughtException") === 0 && armed()) fn();
  });
}

/** The signals whose default action ends a process and which a program can listen for. */
export type TerminatingSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

const TERMINATING_SIGNALS: readonly TerminatingSignal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * Removes the tree `dir` when SIGINT, SIGTERM or SIGHUP would end this
 * process, which then dies by that signal as it would have. A listener of
 * the program's own for that signal means the program handles it: then
 * nothing is done (its exit removes the folder). Node runs signal listeners
 * on the main thread's event loop, so a program busy in a synchronous loop
 * dies only when it yields.
 */
export function removeTreeOnSignal(dir: string): Promise<void> {
  watchTerminatingSignals(dir);
  return Promise.resolve();
}

/** The listeners of {@linkcode removeTreeOnSignal}. */
export function watchTerminatingSignals(dir: string): void {
  const onSignal = (signal: TerminatingSignal) => {
    if (process.listenerCount(signal) > 1) return; // The program handles it.
    removeTree(dir);
    for (const [name, listener] of listeners) process.off(name, listener);
    killSelf(signal);
  };
  const listeners = TERMINATING_SIGNALS.map((name) => [name, () => onSignal(name)] as const);
  for (const [name, listener] of listeners) process.on(name, listener);
}

/** Writes a small file synchronously (error reports). */
export function writeFileText(file: string, text: string): void {
  fs.writeFileSync(file, text);
}

/** Reads and deletes a small file, or returns `undefined` if it is missing. */
export function takeFileText(file: string): string | undefined {
  try {
    const text = fs.readFileSync(file, "utf8");
    fs.rmSync(file);
    return text;
  } catch {
    return undefined;
  }
}

/** Reads a module's source text (for locating exported targets). */
export async function readModuleSource(url: string): Promise<string> {
  if (url.startsWith("file:")) {
    return await fs.promises.readFile(new URL(url), "utf8");
  }
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`Cannot read ${url}: HTTP ${response.status}`);
  }
  return await response.text();
}

/** Reads a local (`file:`) module's source text synchronously. */
export function readModuleSourceSync(url: string): string {
  return fs.readFileSync(new URL(url), "utf8");
}

/**
 * Resolves a bare or mapped specifier the way the runtime would. Node 20
 * resolves bare specifiers only from this file's location (the second
 * argument of `import.meta.resolve` is still experimental), which finds the
 * packages installed beside this one.
 */
export function resolveSpecifier(
  specifier: string,
  referrer: string,
): string | undefined {
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
  setInterval(fn, ms).unref();
}

/** Prints to stderr synchronously (used for child error reports). */
export function printError(text: string): void {
  const bytes = new TextEncoder().encode(
    text.endsWith("\n") ? text : text + "\n",
  );
  let written = 0;
  while (written < bytes.length) {
    try {
      written += fs.writeSync(2, bytes, written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return;
    }
  }
}

/** Lock files held by this thread, removed if it exits holding them. */
const heldLocks = new Set<() => void>();
let exitHookInstalled = false;

function installLockExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const release of [...heldLocks]) release();
  });
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException)?.code;
}

/** The pid written in a lock file, or `undefined` if it is missing or unreadable. */
function lockOwner(file: string): { text: string; pid: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? { text, pid } : undefined;
}

/**
 * Opens (creating if needed) a shared file with mode 0600.
 *
 * The lock is `${path}.lck`, created atomically with `link(2)` from a token
 * file this handle wrote beforehand (so the lock file never exists half
 * written) holding `pid nonce`. It excludes every other handle, in this
 * process or another, as `flock` on separate descriptors does. A lock file
 * whose pid no longer exists is stale: the next contender removes it, under
 * a second lock file so that two contenders cannot both remove it and then
 * each think they took a fresh one. A process that exits normally removes
 * its lock files; one that is killed leaves them to that rule.
 */
export function openShared(file: string): SharedFile {
  const fd = fs.openSync(
    file,
    fs.constants.O_RDWR | fs.constants.O_CREAT,
    0o600,
  );
  const lockPath = `${file}.lck`;
  const breakPath = `${file}.lck.brk`;
  let token: string | undefined;
  let held = false;
  let closed = false;

  const ensureToken = (): string => {
    if (token) return token;
    const name = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tok`;
    fs.writeFileSync(
      name,
      `${process.pid} ${randomBytes(8).toString("hex")}\n`,
      { mode: 0o600 },
    );
    token = name;
    return name;
  };
  const release = () => {
    if (!held) return;
    held = false;
    heldLocks.delete(release);
    try {
      fs.unlinkSync(lockPath);
    } catch {
      // Broken as stale by another process (this one looked dead), or the folder is gone.
    }
  };
  /** Removes the lock file if its holder is dead; `true` if the lock may be free now. */
  const breakStale = (): boolean => {
    const owner = lockOwner(lockPath);
    if (!owner) return !fs.existsSync(lockPath);
    if (pidExists(owner.pid)) return false;
    try {
      fs.linkSync(ensureToken(), breakPath);
    } catch (error) {
      if (errno(error) !== "EEXIST") return false;
      // Another contender is breaking it; if that one died doing so, clear its marker.
      const breaker = lockOwner(breakPath);
      if (breaker && !pidExists(breaker.pid)) {
        try {
          fs.unlinkSync(breakPath);
        } catch {
          // Someone else cleared it.
        }
      }
      return false;
    }
    try {
      // Still the same stale file (not a fresh lock taken since it was read)?
      if (lockOwner(lockPath)?.text === owner.text) fs.unlinkSync(lockPath);
    } catch {
      // Gone already.
    } finally {
      try {
        fs.unlinkSync(breakPath);
      } catch {
        // Ours to remove; gone only if the folder is.
      }
    }
    return true;
  };
  const tryLock = (): boolean => {
    if (closed) throw new Error(`Cannot lock ${file} as its handle is closed`);
    if (held) return true; // As with flock, the same handle locking again succeeds.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.linkSync(ensureToken(), lockPath);
        held = true;
        installLockExitHook();
        heldLocks.add(release);
        return true;
      } catch (error) {
        if (errno(error) !== "EEXIST") throw error;
      }
      if (!breakStale()) return false;
    }
    return false;
  };

  return {
    read(offset, into) {
      let done = 0;
      while (done < into.length) {
        const n = fs.readSync(
          fd,
          into,
          done,
          into.length - done,
          offset + done,
        );
        if (n === 0) {
          into.fill(0, done);
          return;
        }
        done += n;
      }
    },
    write(offset, bytes) {
      let done = 0;
      while (done < bytes.length) {
        done += fs.writeSync(
          fd,
          bytes,
          done,
          bytes.length - done,
          offset + done,
        );
      }
    },
    tryLock,
    async lock() {
      let delay = 0.05;
      while (!tryLock()) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 10);
      }
    },
    unlock: release,
    close() {
      if (closed) return;
      release();
      closed = true;
      if (token) {
        try {
          fs.unlinkSync(token);
        } catch {
          // The folder is gone.
        }
      }
      try {
        fs.closeSync(fd);
      } catch {
        // Already closed.
      }
    },
  };
}

/** An error for an operation on a socket this side has closed (Deno's `BadResource`). */
function closedError(what: string): Error {
  const error = new Error(`Cannot ${what} as the connection is closed`);
  error.name = "BadResource";
  (error as NodeJS.ErrnoException).code = "ERR_SOCKET_CLOSED";
  return error;
}

/** Buffered reads from a Node socket with Deno's `read(into)` semantics. */
class SocketReader {
  #socket: net.Socket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: unknown;
  #waiters: (() => void)[] = [];
  closed = false;
  static readonly HIGH_WATER = 1 << 20;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      // Backpressure: stop reading from the kernel while nobody consumes.
      if (this.#buffered > SocketReader.HIGH_WATER) socket.pause();
      this.#wake();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on("error", (error) => {
      this.#error ??= error;
      this.#wake();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Rejects pending reads: this side closed the connection. */
  close(): void {
    this.closed = true;
    this.#wake();
  }

  async read(into: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.closed) throw closedError("read");
      if (this.#chunks.length > 0) {
        const chunk = this.#chunks[0];
        const n = Math.min(chunk.length, into.length);
        into.set(chunk.subarray(0, n));
        if (n === chunk.length) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(n);
        this.#buffered -= n;
        if (
          this.#buffered <= SocketReader.HIGH_WATER && this.#socket.isPaused()
        ) {
          this.#socket.resume();
        }
        return n;
      }
      if (this.#error !== undefined) {
        const error = this.#error;
        // A reset peer is an end of stream for a reader that has seen all the data.
        if (errno(error) === "ECONNRESET" || errno(error) === "EPIPE") {
          return null;
        }
        throw error;
      }
      if (this.#ended) return null;
      if (into.length === 0) return 0;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** The next chunk as it arrived (for `readable`), or `null` at the end. */
  async readChunk(): Promise<Uint8Array | null> {
    const buf = new Uint8Array(64 * 1024);
    const n = await this.read(buf);
    return n === null ? null : buf.slice(0, n);
  }
}

function writeAll(socket: net.Socket, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed || !socket.writable) {
      reject(closedError("write"));
      return;
    }
    socket.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}

function wrapConn(socket: net.Socket): StreamConn {
  const reader = new SocketReader(socket);
  return {
    read: (into) => reader.read(into),
    write: (bytes) => writeAll(socket, bytes),
    close() {
      reader.close();
      socket.destroy();
    },
    ref: () => void socket.ref(),
    unref: () => void socket.unref(),
  };
}

function connectSocket(options: net.NetConnectOpts): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ ...options, allowHalfOpen: true });
    const onError = (error: Error) => reject(error);
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

/** Connects to a Unix socket. */
export async function connectUnix(socketPath: string): Promise<StreamConn> {
  return wrapConn(await connectSocket({ path: socketPath }));
}

/** Accepted sockets of a `net.Server`, handed out one `accept()` at a time. */
class AcceptQueue {
  #ready: net.Socket[] = [];
  #waiters: {
    resolve(socket: net.Socket): void;
    reject(error: unknown): void;
  }[] = [];
  #error: unknown;

  constructor(server: net.Server) {
    server.on("connection", (socket: net.Socket) => {
      // Until accept() takes it, a connection is not read from (as in Deno's backlog).
      const waiter = this.#waiters.shift();
      if (waiter) waiter.resolve(socket);
      else this.#ready.push(socket);
    });
    server.on("error", (error) => {
      // While listening, an error is one failed accept (EMFILE…): libuv keeps listening, so it
      // is reported to one accept() call and the next ones go on. Otherwise listening failed.
      if (server.listening) this.#waiters.shift()?.reject(error);
      else this.fail(error);
    });
    server.on("close", () => this.fail(closedError("accept")));
  }

  fail(error: unknown): void {
    this.#error ??= error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#error);
    for (const socket of this.#ready.splice(0)) socket.destroy();
  }

  accept(): Promise<net.Socket> {
    const socket = this.#ready.shift();
    if (socket) return Promise.resolve(socket);
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }
}

/** Listens on a Unix socket at `path` (the folder must be private: the socket itself is not). */
export function listenUnix(socketPath: string): StreamListener {
  const server = net.createServer({
    allowHalfOpen: true,
    pauseOnConnect: false,
  });
  const queue = new AcceptQueue(server);
  server.listen(socketPath);
  return {
    accept: async () => wrapConn(await queue.accept()),
    close() {
      queue.fail(closedError("accept"));
      server.close();
    },
  };
}

/** Whether an error from {@linkcode connectUnix} means "not listening yet". */
export function isNotListening(error: unknown): boolean {
  const code = errno(error);
  return code === "ENOENT" || code === "ECONNREFUSED";
}

/** Starts a helper thread running `url` with `data` available to it as `workerData`. */
export function startHelperThread(
  url: string,
  data: unknown,
): Promise<HelperThread> {
  const worker = new Worker(new URL(url), { workerData: data });
  let messageHandler: (message: unknown) => void = () => {};
  let errorHandler: (error: unknown) => void = () => {};
  // Listeners first: adding a 'message' listener refs the worker's port again. An 'error' event
  // without a listener would throw in this thread.
  worker.on("message", (message) => messageHandler(message));
  worker.on("error", (error) => errorHandler(error));
  worker.unref();
  return Promise.resolve({
    postMessage: (message) => worker.postMessage(message),
    onMessage: (handler) => void (messageHandler = handler),
    onError: (handler) => void (errorHandler = handler),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    terminate: () => void worker.terminate(),
  });
}

/** The helper-thread side of {@linkcode startHelperThread}: its data and its channel to the parent. */
export function helperThreadContext(): Promise<{
  data: unknown;
  postMessage(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
}> {
  const port = parentPort;
  if (!port) {
    return Promise.reject(
      new Error("Cannot run the helper thread outside a worker"),
    );
  }
  return Promise.resolve({
    data: workerData,
    postMessage: (message: unknown) => port.postMessage(message),
    onMessage: (handler: (message: unknown) => void) => void port.on("message", handler),
  });
}

/** A random hex key (for authenticating children to a hub). */
export function randomKey(bytes = 32): string {
  return randomBytes(bytes).toString("hex");
}

/**
 * Starts a module worker. An uncaught error in it never kills this process:
 * it is handed to `onError` (the worker's bootstrap normally reports errors
 * itself). A daemon thread does not keep the program alive (an unref'd
 * worker), as in Python.
 */
export function startThread(
  url: string,
  name: string,
  daemon: boolean,
): ThreadHandle {
  checkEntryFile(url, `thread "${name}"`);
  const worker = new Worker(new URL(url), { name });
  let messageHandler: (message: unknown) => void = () => {};
  let errorHandler: (error: { message: string }) => void = () => {};
  // Listeners first: adding a 'message' listener refs the worker's port again.
  worker.on("message", (message) => messageHandler(message));
  worker.on(
    "error",
    (error: Error) => errorHandler({ message: error?.message ?? String(error) }),
  );
  worker.on(
    "messageerror",
    () =>
      errorHandler({
        message: "A message from the thread could not be deserialized",
      }),
  );
  if (daemon) worker.unref();
  return {
    postMessage: (message, transfer) =>
      worker.postMessage(
        message,
        transfer as Parameters<Worker["postMessage"]>[1],
      ),
    onMessage: (handler) => void (messageHandler = handler),
    onError: (handler) => void (errorHandler = handler),
    terminate: () => void worker.terminate(),
  };
}

/** The `tsx` loader this process was started with (`--import tsx`, `--loader tsx`…), if any. */
function tsxFlag(): string | undefined {
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const match = /^--(?:import|loader|experimental-loader)(?:=(.*))?$/.exec(argv[i]);
    const specifier = match && (match[1] ?? argv[i + 1]);
    if (specifier && /^tsx(\/|$)/.test(specifier)) return specifier;
  }
  return undefined;
}

/**
 * Whether tsx's loader, imported in a worker, registers itself there: tsx
 * (4.23, the version tested) does so only on Node ≥ 22.22.3, 24.11.1 and
 * 25.1; on older Node it leaves workers alone, so it is registered through
 * its API (`tsx/esm/api`) instead.
 */
function tsxRegistersInWorkers(): boolean {
  const [major, minor, patch] = process.versions.node.split(".").map(Number);
  const atLeast = (m: number, p: number) => minor > m || (minor === m && patch >= p);
  return major >= 26 || (major === 25 && atLeast(1, 0)) || (major === 24 && atLeast(11, 1)) ||
    (major === 22 && atLeast(22, 3));
}

/** What an `exports` entry of a package.json gives an ESM `import` (a path, or conditions). */
type ExportTarget = string | { import?: ExportTarget; node?: ExportTarget; default?: ExportTarget };

function importTarget(target: ExportTarget | undefined): string | undefined {
  if (typeof target === "string" || target === undefined) return target;
  return importTarget(target.import ?? target.node ?? target.default);
}

/**
 * URL of the ESM file that `import "tsx<subpath>"` loads, found from the
 * working folder (where `--import tsx` was resolved), else from this module.
 */
function resolveTsx(subpath: "" | "/esm/api"): string {
  let manifest: string;
  try {
    manifest = createRequire(path.join(process.cwd(), "noop.js")).resolve("tsx/package.json");
  } catch {
    manifest = fileURLToPath(import.meta.resolve("tsx/package.json"));
  }
  const exports = JSON.parse(fs.readFileSync(manifest, "utf8")).exports as Record<
    string,
    ExportTarget
  >;
  const file = importTarget(exports[`.${subpath}`]);
  if (file === undefined) throw new Error(`tsx has no export "tsx${subpath}"`);
  return pathToFileURL(path.join(path.dirname(manifest), file)).href;
}

/**
 * In a worker of a program started with `node --import tsx`: registers tsx's
 * loader in this worker too, so that the thread can import the user's `.ts`
 * modules. Node passes a worker its parent's flags, but its loader hooks do
 * not reach the worker (`ERR_UNKNOWN_FILE_EXTENSION ".ts"` otherwise).
 */
async function registerTsxInWorker(): Promise<void> {
  if (isMainThread || tsxFlag() === undefined) return;
  try {
    if (tsxRegistersInWorkers()) {
      await import(resolveTsx(""));
    } else {
      const api = await import(resolveTsx("/esm/api")) as { register(): unknown };
      api.register();
    }
  } catch (error) {
    throw new Error(
      `Cannot load tsx in this thread although the program was started with --import tsx: ` +
        `${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Inside a worker: its channel to the thread that started it. */
export async function threadSelf(_moduleUrl: string): Promise<{
  postMessage(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
  onUncaught(handler: (error: unknown) => void): void;
  onExit(handler: () => void): void;
  close(): void;
}> {
  const port = parentPort;
  if (!port) throw new Error("Cannot run a thread's entry module outside a worker");
  await registerTsxInWorker();
  return {
    postMessage: (message: unknown) => port.postMessage(message),
    onMessage: (handler: (message: unknown) => void) => void port.on("message", handler),
    onUncaught(handler: (error: unknown) => void) {
      // Handled here, an uncaught error does not end the thread (as `preventDefault()` in Deno).
      process.on("uncaughtException", (error) => handler(error));
      process.on("unhandledRejection", (reason) => handler(reason));
    },
    onExit: (handler: () => void) => void process.on("exit", () => handler()),
    // Deno's `self.close()`: the worker ends (messages already posted are delivered).
    close: () => process.exit(),
  };
}

/** Whether this code runs in a worker thread. */
export function inWorker(): boolean {
  return !isMainThread;
}

// ---------------------------------------------------------------------------
// TCP and Unix stream sockets for `net/` (servers and their relays).

function wrapNetConn(socket: net.Socket, unixPath?: string): NetConn {
  if (unixPath === undefined) socket.setNoDelay(true);
  const reader = new SocketReader(socket);
  const tcpAddr = (
    hostname: string | undefined,
    port: number | undefined,
  ): SocketAddress => ({
    transport: "tcp",
    hostname: hostname ?? "",
    port: port ?? 0,
  });
  const localAddr = unixPath !== undefined
    ? { transport: "unix" as const, path: unixPath }
    : tcpAddr(socket.localAddress, socket.localPort);
  const remoteAddr = unixPath !== undefined
    ? { transport: "unix" as const, path: "" }
    : tcpAddr(socket.remoteAddress, socket.remotePort);
  let readable: ReadableStream<Uint8Array> | undefined;
  let writable: WritableStream<Uint8Array> | undefined;
  const closeWrite = () =>
    new Promise<void>((resolve) => {
      if (socket.destroyed || socket.writableEnded) return resolve();
      socket.end(() => resolve());
    });
  const conn: NetConn = {
    localAddr,
    remoteAddr,
    get readable() {
      return readable ??= new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const chunk = await reader.readChunk();
            if (chunk === null) controller.close();
            else controller.enqueue(chunk);
          } catch (error) {
            controller.error(error);
          }
        },
        cancel: () => conn.close(),
      });
    },
    get writable() {
      return writable ??= new WritableStream<Uint8Array>({
        write: (chunk) => writeAll(socket, chunk),
        close: () => conn.close(),
        abort: () => conn.close(),
      });
    },
    read: (into) => reader.read(into),
    write: async (bytes) => {
      await writeAll(socket, bytes);
      return bytes.length;
    },
    closeWrite,
    close() {
      reader.close();
      socket.destroy();
    },
    ref: () => void socket.ref(),
    unref: () => void socket.unref(),
  };
  return conn;
}

function wrapNetListener(
  server: net.Server,
  addr: () => SocketAddress,
  unixPath?: string,
): NetListener {
  const queue = new AcceptQueue(server);
  let closed = false;
  return {
    get addr() {
      return addr();
    },
    accept: async () => wrapNetConn(await queue.accept(), unixPath),
    close() {
      if (closed) return;
      closed = true;
      queue.fail(closedError("accept"));
      server.close();
    },
    ref: () => void server.ref(),
    unref: () => void server.unref(),
  };
}

/**
 * `net._createServerHandle(address, port, addressType, fd, flags)`: what
 * `net.Server.listen` itself calls, after its asynchronous address lookup,
 * to make a bound TCP handle synchronously (exported by `node:net` for
 * `cluster`). It returns the handle, or a negative error number.
 */
type CreateServerHandle = (
  address: string,
  port: number,
  addressType: number,
  fd?: number,
  flags?: number,
) => { listen(backlog: number): number; close(): void } | number;

/** libuv's `UV_TCP_REUSEPORT` bind flag (`uv_tcp_flags`; Node ≥ 22.12 / 23.1 passes it on). */
const UV_TCP_REUSEPORT = 2;

const [NODE_MAJOR, NODE_MINOR] = process.versions.node.split(".").map(Number);

/** Node.js has `reusePort` from 22.12 and 23.1 on (`net.Server.listen({ reusePort })`). */
const NODE_HAS_REUSEPORT = NODE_MAJOR > 23 || (NODE_MAJOR === 23 && NODE_MINOR >= 1) ||
  (NODE_MAJOR === 22 && NODE_MINOR >= 12);

/**
 * Whether `listenTcp` can share a port with `reusePort` (Linux
 * `SO_REUSEPORT`): Node has it from 22.12 and 23.1 (Deno needs
 * `--unstable-net`, hence the name shared with `runtime.ts`).
 */
export function unstableNetAvailable(): boolean {
  return NODE_HAS_REUSEPORT;
}

/** The reason `reusePort` is missing on this Node, and what to do (message end). */
function noReusePortReason(): string {
  return `Node.js ${process.versions.node} has no reusePort (SO_REUSEPORT), which prefork ` +
    `servers share their port with: it needs Node.js >= 22.12 (or >= 23.1), or use mode ` +
    `"thread" or "process"`;
}

/**
 * Why this process cannot listen with `reusePort` (what a `"prefork-thread"`
 * server needs), as the end of an error message that says what to do, or
 * `undefined` when it can.
 */
export function reusePortUnavailable(): string | undefined {
  return NODE_HAS_REUSEPORT ? undefined : noReusePortReason();
}

/** What to do when a module's source cannot be read to find an exported target (message end). */
export function unreadableSourceHint(): string {
  return "a child imports its target's module by URL, so that module must exist as a file at " +
    "run time (if the program is bundled, keep the modules that export targets as separate " +
    "files), or pass the target explicitly";
}

/** What to do when the private folder cannot be created in the temporary folder (message end). */
export function privateFolderHint(): string {
  return "make the temporary folder (TMPDIR, or /tmp) writable for this user";
}

/** A listen error as Node reports it, named like Deno's (`AddrInUse`) for the common cases. */
function listenError(code: number, hostname: string, port: number): Error {
  const name = getSystemErrorName(code);
  const error = new Error(
    `listen ${name}: ${hostname}:${port}`,
  ) as NodeJS.ErrnoException;
  error.code = name;
  error.errno = code;
  error.syscall = "listen";
  const denoNames: Record<string, string> = {
    EADDRINUSE: "AddrInUse",
    EADDRNOTAVAIL: "AddrNotAvailable",
    EACCES: "PermissionDenied",
  };
  if (denoNames[name]) error.name = denoNames[name];
  return error;
}

/**
 * Binds and listens on `server` synchronously, so that the port is known and
 * an address in use throws at once (Python's constructor binds; a Deno
 * listener does too): `net.Server.listen` with a host binds only after an
 * asynchronous lookup, even of an IP address. Returns `false` where that is
 * not possible (a host name, or a Node without `_createServerHandle`): the
 * caller then listens asynchronously.
 */
function listenSync(
  server: net.Server,
  hostname: string,
  port: number,
  reusePort: boolean,
): boolean {
  const family = net.isIP(hostname);
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })
    ._createServerHandle;
  if (family === 0 || typeof create !== "function") return false;
  const handle = create(hostname, port, family, undefined, reusePort ? UV_TCP_REUSEPORT : 0);
  if (typeof handle === "number") throw listenError(handle, hostname, port);
  const code = handle.listen(511);
  if (code !== 0) {
    handle.close();
    throw listenError(code, hostname, port);
  }
  // A listening handle: `listen` adopts it (as it does a server handle passed from a cluster
  // primary) and listens on it again, a no-op.
  server.listen(handle as unknown as net.ListenOptions);
  return true;
}

/**
 * Listens on TCP. With `reusePort` (Linux `SO_REUSEPORT`: several sockets
 * share the port and the kernel spreads connections among them), Node must
 * be 22.12 / 23.1 or newer: this throws otherwise.
 *
 * @throws {Error} If `reusePort` is asked for on a Node without it, or the
 *   address cannot be bound (`name` `AddrInUse` when the port is taken).
 */
export function listenTcp(
  options: { hostname: string; port: number; reusePort?: boolean },
): NetListener {
  const { hostname, port } = options;
  if (options.reusePort && !NODE_HAS_REUSEPORT) {
    throw new Error(`Cannot listen with reusePort as ${noReusePortReason()}`);
  }
  const server = net.createServer({ allowHalfOpen: true });
  if (!listenSync(server, hostname, port, options.reusePort ?? false)) {
    server.listen({
      host: hostname,
      port,
      ...(options.reusePort ? { reusePort: true } : {}),
    });
  }
  const addr = (): SocketAddress => {
    const bound = server.address();
    if (bound && typeof bound === "object") {
      return { transport: "tcp", hostname: bound.address, port: bound.port };
    }
    return { transport: "tcp", hostname, port };
  };
  return wrapNetListener(server, addr);
}

/** Listens on a Unix socket, handing out full connections (streams and half-close). */
export function listenUnixNet(socketPath: string): NetListener {
  const server = net.createServer({ allowHalfOpen: true });
  server.listen(socketPath);
  return wrapNetListener(
    server,
    () => ({ transport: "unix", path: socketPath }),
    socketPath,
  );
}

/** Connects to a Unix socket, as a full connection (streams and half-close). */
export async function connectUnixNet(socketPath: string): Promise<NetConn> {
  return wrapNetConn(await connectSocket({ path: socketPath }), socketPath);
}

/**
 * Throws a clear error unless this process may listen on a Unix socket:
 * Node has no permissions, so it always may.
 *
 * @param _what What is being attempted, for the message.
 */
export function checkSocketPermission(_what: string): void {
  // Nothing to check on Node.
}

/** Node's error codes for the names `listenTcp` and Deno give I/O errors. */
const CODES_BY_NAME: Record<string, string> = {
  AddrInUse: "EADDRINUSE",
  AddrNotAvailable: "EADDRNOTAVAIL",
  PermissionDenied: "EACCES",
  ConnectionRefused: "ECONNREFUSED",
  ConnectionReset: "ECONNRESET",
  ConnectionAborted: "ECONNABORTED",
  NotConnected: "ENOTCONN",
  BrokenPipe: "EPIPE",
  NotFound: "ENOENT",
  AlreadyExists: "EEXIST",
  TimedOut: "ETIMEDOUT",
};

/**
 * Gives an error rebuilt from another process or thread what a local one
 * of its kind has: Node has no I/O error classes, so an error named like
 * one of Deno's (`AddrInUse`…, as {@linkcode listenTcp} names them) gets
 * Node's `code` (`EADDRINUSE`…) back if it lost it. Other errors are
 * returned as they are.
 */
export function reviveRuntimeError(error: Error): Error {
  const code = CODES_BY_NAME[error.name];
  const withCode = error as NodeJS.ErrnoException;
  if (code && withCode.code === undefined) withCode.code = code;
  return error;
}

/**
 * Starts a pool's worker thread running `url`, with `data` available to it
 * as `workerData` (see {@linkcode helperThreadContext}).
 */
export function startPoolThread(url: string, data: unknown): Promise<PoolThread> {
  return Promise.resolve(poolThread(new Worker(new URL(url), { workerData: data })));
}
