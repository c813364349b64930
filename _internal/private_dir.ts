/**
 * The private folder's lifetime: its name says who owns it, it is removed
 * on every exit the runtime lets us see, and the next program that creates
 * one sweeps away the folders of owners that are gone.
 *
 * A folder is named `multiproc-<pid>-<start>-<namespace>-<random>` (in the
 * temporary folder) or `multiproc-<pid>-<start>-<namespace>` (inside the
 * parent's folder): `<start>` is the owner's start time in clock ticks after
 * boot (field 22 of `/proc/<pid>/stat`) and `<namespace>` the inode of its
 * pid namespace (`/proc/self/ns/pid`), both in base 36 to keep socket paths
 * short, or `x` where they cannot be read. A pid alone is not enough: after
 * the owner dies its pid may be given to another process, so pid and start
 * time together name the owner; and a pid means something only in its own
 * namespace (a container sharing the temporary folder has others), so a
 * folder of another namespace is never judged.
 *
 * @module
 */

import {
  currentPid,
  listSubdirs,
  makePrivateDir,
  makePrivateSubdir,
  onFatalError,
  onRuntimeExit,
  pidNamespace,
  readProcStat,
  removeTree,
  removeTreeOnSignal,
} from "./runtime.ts";

/** Our naming scheme; anything else in the temporary folder is never touched. */
const PREFIX = "multiproc-";
const NAME = /^multiproc-(\d+)-([0-9a-z]+|x)-([0-9a-z]+|x)(?:-[0-9A-Za-z]+)?$/;

/** How deep the sweep looks for live children's folders inside a dead owner's. */
const MAX_NESTING = 8;

/** The state and start time (base 36) of process `pid`: `null` if there is none, `undefined` if unknown. */
function processStat(pid: number): { state: string; start: string } | null | undefined {
  const text = readProcStat(pid);
  if (typeof text !== "string") return text;
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const start = Number(fields[22 - 3]);
  return Number.isSafeInteger(start) ? { state: fields[0], start: start.toString(36) } : undefined;
}

let ownName: string | undefined;

/** `multiproc-<pid>-<start>-<namespace>` for this process (see the module doc). */
function ownerName(): string {
  if (ownName === undefined) {
    const start = processStat(currentPid())?.start ?? "x";
    const inode = Number(/^pid:\[(\d+)\]$/.exec(pidNamespace() ?? "")?.[1]);
    const namespace = Number.isSafeInteger(inode) ? inode.toString(36) : "x";
    ownName = `${PREFIX}${currentPid()}-${start}-${namespace}`;
  }
  return ownName;
}

/** The longest path of a Unix socket (`sun_path` holds 108 bytes with the final NUL). */
const MAX_SOCKET_PATH = 107;

/** The longest socket name in a private folder: `/net-<12 hex>.sock` (a TCP server's hub). */
const LONGEST_SOCKET_NAME = 22;

/** Whether the Unix sockets of a private folder at `dir` have paths short enough to listen on. */
function socketsFit(dir: string): boolean {
  return dir.length + LONGEST_SOCKET_NAME <= MAX_SOCKET_PATH;
}

/**
 * A private folder in place of `dir` (just made in a temporary folder with a
 * long path, e.g. a long `TMPDIR`) whose sockets fit: the same folder
 * without its random suffix (`name` is this process's own: pid, start time
 * and namespace), or else one in `/tmp`, as Python's multiprocessing does
 * for its socket addresses. `dir` itself if neither can be made (listening
 * on a socket there then fails with the runtime's error).
 */
function shorterPrivateDir(dir: string, name: string): string {
  for (const candidate of [`${dir.slice(0, dir.lastIndexOf("/"))}/${name}`, `/tmp/${name}`]) {
    if (!socketsFit(candidate)) continue;
    try {
      makePrivateSubdir(candidate);
    } catch {
      continue; // Taken (not ours) or not writable.
    }
    removeTree(dir);
    return candidate;
  }
  return dir;
}

/**
 * Creates this process's private folder. A child's folder goes inside its
 * parent's (`parent`), so that when the child is killed (no exit hook runs)
 * the parent's clean-up still removes it; socket paths must stay short, so
 * deep trees, or a parent's folder that is gone, start afresh in the
 * system's temporary folder; creating one there also sweeps away the
 * folders of owners that are gone.
 */
export function createPrivateDir(parent?: string): string {
  const name = ownerName();
  if (parent && parent.length + 1 + name.length + LONGEST_SOCKET_NAME <= MAX_SOCKET_PATH) {
    try {
      const dir = `${parent}/${name}`;
      makePrivateSubdir(dir);
      return dir;
    } catch {
      // The parent's folder is gone or not writable: use the system's temporary folder.
    }
  }
  let dir = makePrivateDir(`${name}-`);
  if (!socketsFit(dir)) dir = shorterPrivateDir(dir, name);
  try {
    sweepDeadOwners(dir);
  } catch {
    // Sweeping is a courtesy: it never stands in the way of this program's own folder.
  }
  return dir;
}

/**
 * Whether the owner named by a folder name (matched by {@linkcode NAME}) is
 * gone: no such process, a zombie, or another process that was given the
 * pid later (its start time differs). `false` when it cannot be told: an
 * unknown start time, or another pid namespace than this process's.
 */
function ownerGone(match: RegExpExecArray, namespace: string): boolean {
  const [, pid, start, folderNamespace] = match;
  if (folderNamespace !== namespace) return false;
  const stat = processStat(Number(pid));
  if (stat === undefined) return false;
  if (stat === null || stat.state === "Z" || stat.state === "X") return true;
  return start !== "x" && start !== stat.start;
}

/** Whether a folder, or a child's folder nested in it, has an owner that may still be running. */
function hasLiveOwner(
  path: string,
  match: RegExpExecArray,
  namespace: string,
  depth: number,
): boolean {
  if (!ownerGone(match, namespace)) return true;
  if (depth >= MAX_NESTING) return true; // Too deep to tell: leave it.
  for (const entry of listSubdirs(path, PREFIX)) {
    const nested = NAME.exec(entry.name);
    if (nested && hasLiveOwner(`${path}/${entry.name}`, nested, namespace, depth + 1)) return true;
  }
  return false;
}

/**
 * Removes the folders beside `ownDir` (this process's folder, just created
 * in the temporary folder) that follow our naming scheme, belong to the
 * same user (the owner of `ownDir`) and pid namespace, and whose owner (and
 * every child whose folder is nested in it) is gone. Does nothing where
 * this process cannot read `/proc` (on Deno that takes `--allow-all`):
 * liveness could not be told.
 */
export function sweepDeadOwners(ownDir: string): void {
  const tempDir = ownDir.slice(0, ownDir.lastIndexOf("/"));
  const own = NAME.exec(ownerName());
  if (!own || own[2] === "x" || own[3] === "x") return;
  const entries = listSubdirs(tempDir, PREFIX);
  const uid = entries.find((entry) => `${tempDir}/${entry.name}` === ownDir)?.uid;
  if (uid === undefined || uid === null) return;
  for (const entry of entries) {
    const match = NAME.exec(entry.name);
    if (!match || entry.uid !== uid) continue;
    const path = `${tempDir}/${entry.name}`;
    if (!hasLiveOwner(path, match, own[3], 0)) removeTree(path);
  }
}

let fatalHookInstalled = false;
const ownDirs = new Set<string>();
let signalsWatched: Promise<void> | undefined;

/** Resolves once this process's signal listeners are in place (`undefined` if none are to be). */
export function whenSignalsWatched(): Promise<void> | undefined {
  return signalsWatched;
}

/**
 * Removes `dir` on every exit the runtime lets us see: the end of the
 * program, an exit call, an uncaught error or unhandled rejection that ends
 * it, and (when `signals`) SIGINT, SIGTERM or SIGHUP.
 */
export function removeAtExit(dir: string, signals: boolean): void {
  ownDirs.add(dir);
  onRuntimeExit(() => removeTree(dir));
  if (signals) signalsWatched = removeTreeOnSignal(dir);
}

/**
 * Watches for fatal errors. Called at import, so that the listener comes
 * before any the program adds; it acts only once a folder exists.
 */
export function watchFatalErrors(): void {
  if (fatalHookInstalled) return;
  fatalHookInstalled = true;
  onFatalError(() => ownDirs.size > 0, () => {
    for (const dir of ownDirs) removeTree(dir);
  });
}
