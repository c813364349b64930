/**
 * The library's only way to the host runtime's process, worker and
 * permission APIs (`Deno.Command`, `Deno.execPath`, `Deno.permissions`,
 * `Deno.kill`, `new Worker`): nothing else in the library may call them
 * directly. The npm build swaps this file for a Node implementation with the
 * same exports (`runtime_node.ts`).
 *
 * This file only names the adapter's functions: they are written in
 * `runtime/deno/`, one file a seam (`process.ts`, `permissions.ts`,
 * `shared_memory.ts`, `memory.ts`, `files.ts`, `shared_file.ts`,
 * `unix_sockets.ts`, `tcp.ts`, `threads.ts`, and `sockets.ts` for what Unix
 * sockets and TCP share), and what needs nothing of the host is written once
 * for both runtimes in `runtime/common.ts`.
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
} from "./runtime/deno/process.ts";
export {
  checkSocketPermission,
  permissionFlags,
  privateFolderHint,
  unreadableSourceHint,
} from "./runtime/deno/permissions.ts";
export { canMapShared, mapShared, yieldCore } from "./runtime/deno/shared_memory.ts";
export { uninitializedBytes } from "./runtime/deno/memory.ts";
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
} from "./runtime/deno/files.ts";
export { openShared } from "./runtime/deno/shared_file.ts";
export {
  connectUnix,
  connectUnixNet,
  isNotListening,
  listenUnix,
  listenUnixNet,
} from "./runtime/deno/unix_sockets.ts";
export {
  listenTcp,
  reusePortUnavailable,
  reviveRuntimeError,
  unstableNetAvailable,
} from "./runtime/deno/tcp.ts";
export {
  helperThreadContext,
  inWorker,
  startHelperThread,
  startPoolThread,
  startThread,
  threadSelf,
} from "./runtime/deno/threads.ts";
