/**
 * The built package under test: `MULTIPROC_PKG` (a folder holding its
 * package.json, e.g. an installed `node_modules/multiproc`) or the build in
 * `npm/`. Every test file and fixture imports it from here, so a child
 * process or thread (which inherits the environment) loads the very same
 * module files, as a user's program would.
 */
import { pathToFileURL } from "node:url";

/** URL of the package's root folder, ending in "/". */
export const PKG_ROOT = process.env.MULTIPROC_PKG
  ? pathToFileURL(process.env.MULTIPROC_PKG.replace(/\/?$/, "/")).href
  : new URL("../../npm/", import.meta.url).href;

const mod = await import(new URL("mod.js", PKG_ROOT).href);

export const {
  Barrier,
  BaseRequestHandler,
  BoundedSemaphore,
  BrokenBarrierError,
  BufferTooShort,
  Condition,
  Connection,
  Empty,
  EOFError,
  Event,
  ForkingTcpServer,
  Full,
  JoinableQueue,
  LifoQueue,
  Local,
  Lock,
  Pipe,
  PriorityQueue,
  Process,
  Queue,
  QueueClosed,
  RLock,
  Semaphore,
  SharedArray,
  SimpleQueue,
  StreamRequestHandler,
  TaskQueue,
  TcpServer,
  Thread,
  ThreadingTcpServer,
  Timer,
  Value,
  activeChildren,
  activeCount,
  cpuCount,
  currentProcess,
  currentThread,
  enumerate,
  getIdent,
  isMain,
  mainThread,
  parentProcess,
  setExcepthook,
} = mod;
