/**
 * The Node.js implementation of `runtime.ts`, with the same exports and
 * signatures: the npm build (`tools/build_npm.ts`) compiles this file as
 * `_internal/runtime.js`, so the rest of the library runs unchanged on
 * Node ≥ 20. Like `runtime.ts`, it is the only module of the build that
 * touches the host's process, worker, file and socket APIs.
 *
 * This file only names the adapter's functions: they are written in
 * `runtime/node/`, in files named as the Deno adapter's in `runtime/deno/`,
 * and what needs nothing of the host once for both in `runtime/common.ts`.
 * The npm build leaves `runtime/deno/` out.
 *
 * Where Node differs from Deno, and what the adapter does about it:
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
export type { TerminatingSignal } from "./runtime/common.ts";
export { errorCode, randomKey, resolveSpecifier } from "./runtime/common.ts";
export {
  cpuCount,
  currentPid,
  currentPpid,
  everyUnref,
  exitNow,
  isMainModule,
  killSelf,
  MAIN_GUARD,
  mainModuleUrl,
  onFatalError,
  onRuntimeExit,
  pidAlive,
  pidExists,
  pidNamespace,
  printError,
  readControl,
  readProcStat,
  removeTreeOnSignal,
  setExitCode,
  spawnRuntime,
  watchTerminatingSignals,
} from "./runtime/node/process.ts";
export {
  checkSocketPermission,
  permissionFlags,
  privateFolderHint,
  unreadableSourceHint,
} from "./runtime/node/permissions.ts";
export { canMapShared, mapShared, yieldCore } from "./runtime/node/shared_memory.ts";
export { uninitializedBytes } from "./runtime/node/memory.ts";
export {
  listFiles,
  listSubdirs,
  makePrivateDir,
  makePrivateSubdir,
  readModuleSource,
  readModuleSourceSync,
  removeTree,
  renameFile,
  takeFileText,
  writeFileText,
} from "./runtime/node/files.ts";
export { openShared } from "./runtime/node/shared_file.ts";
export {
  connectUnix,
  connectUnixNet,
  isNotListening,
  listenUnix,
  listenUnixNet,
} from "./runtime/node/unix_sockets.ts";
export {
  listenTcp,
  reusePortUnavailable,
  reviveRuntimeError,
  unstableNetAvailable,
} from "./runtime/node/tcp.ts";
export {
  helperThreadContext,
  inWorker,
  startHelperThread,
  startPoolThread,
  startThread,
  threadSelf,
} from "./runtime/node/threads.ts";
