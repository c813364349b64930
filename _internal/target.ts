/**
 * Locating a target: a child runs a function (or a `Process`/`Thread`
 * subclass) by importing its module by URL and reading one export, so the
 * parent must turn the function object it was given into "module URL +
 * export name".
 *
 * Why by source text and not by module namespace: the caller is usually the
 * main module, still evaluating (often suspended in a top-level `await
 * p.join()`), and `import()` of a module that is still evaluating only
 * resolves when it finishes, which would deadlock. So the search reads
 * module sources and looks for an export of the function's name, and the
 * child checks that the export it finds has the same source text.
 *
 * @module
 */

import { LIBRARY_MODULES } from "./library_modules.ts";
import {
  mainModuleUrl,
  readModuleSource,
  readModuleSourceSync,
  resolveSpecifier,
  unreadableSourceHint,
} from "./runtime.ts";

/** A target as a module URL and export name: what crosses to the child. */
export interface TargetRef {
  /** Absolute URL of the module that exports the target. */
  module: string;
  /** Name of the export (`"default"` for a default export). */
  export: string;
  /** Hash of the target's source text, checked by the child (0 = unchecked). */
  hash: number;
}

/**
 * What the caller can pass as a target: a function, a class, or an explicit reference.
 *
 * @example
 * ```ts
 * import { Process, type TargetSpec } from "@multiproc/multiproc";
 * import { throws } from "node:assert/strict";
 *
 * // An exported function of a module (`target: task`), or an export named by module URL:
 * const byName: TargetSpec = {
 *   module: import.meta.resolve("../examples/workers.ts"),
 *   export: "square",
 * };
 * await using p = new Process({ target: byName }); // not started here
 *
 * // A function that no module exports cannot be imported by the child: start() says so.
 * const inline: TargetSpec = () => {};
 * await using q = new Process({ target: inline });
 * throws(() => q.start(), TypeError);
 * ```
 */
export type TargetSpec =
  // deno-lint-ignore no-explicit-any
  | ((...args: any[]) => unknown)
  | { module: string | URL; export: string };

/** URL of this library's root folder; frames under it are not the caller. */
const LIBRARY_ROOT = new URL("../", import.meta.url).href;

const FRAME_URL = /((?:file|https?|data|blob):[^\s()]+?):\d+:\d+\)?\s*$/;

/**
 * URL of the first module on the current stack that is not part of this
 * library: the module whose code constructed the Process or Thread.
 */
export function callerModule(): string | undefined {
  // The caller may be deeper than the default 10 frames (the codec recurses into a value).
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Infinity;
  let stack: string;
  try {
    stack = new Error().stack ?? "";
  } finally {
    Error.stackTraceLimit = limit;
  }
  for (const line of stack.split("\n").slice(1)) {
    const match = FRAME_URL.exec(line);
    if (!match) continue;
    if (!isLibraryCode(match[1])) return match[1];
  }
  return undefined;
}

/**
 * Whether `url` is one of the library's own modules (by its list, not by
 * folder: a user's module anywhere in a copy of the library is the user's,
 * and so are the library's tests, examples and benchmarks).
 */
function isLibraryCode(url: string): boolean {
  if (!url.startsWith(LIBRARY_ROOT)) return false;
  const path = url.slice(LIBRARY_ROOT.length).replace(/[?#].*$/, "");
  // The npm build ships each module as a `.js` file of the same path.
  return LIBRARY_MODULES.has(path.replace(/\.js$/, ".ts"));
}

/** A cheap, stable hash of a function's source (FNV-1a, 32 bits). */
export function sourceHash(fn: unknown): number {
  if (typeof fn !== "function") return 0;
  const text = Function.prototype.toString.call(fn);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** What a module's source says: its exports (local name → exported names) and what it imports. */
interface ModuleExports {
  local: Map<string, string[]>;
  imports: string[];
}

const IDENT = "[A-Za-z_$][\\w$]*";
const DECL = new RegExp(
  `export\\s+(default\\s+)?(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?` +
    `(?:function\\s*\\*?|class|const|let|var)\\s+(${IDENT})`,
  "g",
);
const LIST = /export\s*(?:type\s*)?\{([^}]*)\}\s*(?:from\s*["']([^"']+)["'])?/g;
const DEFAULT_ID = new RegExp(`export\\s+default\\s+(${IDENT})\\s*;`, "g");
const IMPORT =
  /(?:import|export)\s*(?:type\s+)?[^'";]*?from\s*["']([^"']+)["']|import\s*["']([^"']+)["']/g;

function stripComments(text: string): string {
  // A line comment starts after white space or punctuation, never inside "file:///…".
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[\s;{}()])\/\/.*$/gm, "$1");
}

function parseExports(text: string, url: string): ModuleExports {
  const src = stripComments(text);
  const local = new Map<string, string[]>();
  const add = (name: string, exported: string) => {
    const list = local.get(name) ?? [];
    list.push(exported);
    local.set(name, list);
  };
  for (const m of src.matchAll(DECL)) add(m[2], m[1] ? "default" : m[2]);
  for (const m of src.matchAll(DEFAULT_ID)) add(m[1], "default");
  for (const m of src.matchAll(LIST)) {
    // `export { a as b } from "./x.ts"` is found in x.ts itself, which the import scan queues.
    if (m[2]) continue;
    for (const part of m[1].split(",")) {
      const [name, alias] = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/);
      if (name) add(name, alias ?? name);
    }
  }
  const imports: string[] = [];
  for (const m of src.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    const to = resolveSpecifier(spec, url);
    if (to && /^(file|https?):/.test(to)) imports.push(to);
  }
  return { local, imports };
}

const parsed = new Map<string, ModuleExports | null>();
const pending = new Map<string, Promise<void>>();
const resolved = new WeakMap<object, TargetRef>();
/** The other way round: what this process located, by module URL and export name. */
const located = new Map<string, object>();

function remember(fn: object, ref: TargetRef): void {
  resolved.set(fn, ref);
  located.set(`${ref.module}#${ref.export}`, fn);
}

/**
 * The function or class this process itself located as `ref` (so that it
 * can be had without importing its module, which may be the main module,
 * still running).
 *
 * @param ref A reference made by this process or another.
 * @returns The function or class, if this process located it.
 */
export function locatedExport(ref: TargetRef): unknown {
  return located.get(`${ref.module}#${ref.export}`);
}

/**
 * What `url` exports: read synchronously for `file:` modules, from the cache
 * for others; `undefined` when an `http(s):` source still has to be fetched,
 * `null` when it cannot be read.
 */
function exportsOf(url: string): ModuleExports | null | undefined {
  const known = parsed.get(url);
  if (known !== undefined) return known;
  if (!url.startsWith("file:")) return undefined;
  let info: ModuleExports | null = null;
  try {
    info = parseExports(readModuleSourceSync(url), url);
  } catch {
    // Unreadable (no --allow-read, or gone): counted in the error message.
  }
  parsed.set(url, info);
  return info;
}

function fetchExports(url: string): Promise<void> {
  let p = pending.get(url);
  if (!p) {
    p = readModuleSource(url).then(
      (text) => void parsed.set(url, parseExports(text, url)),
      () => void parsed.set(url, null),
    );
    pending.set(url, p);
  }
  return p;
}

/** The remote (`http(s):`) modules read so far: the child must be allowed to import them. */
export function remoteModulesSeen(): string[] {
  return [...parsed.keys(), ...pending.keys()].filter((url) => !url.startsWith("file:"));
}

/** The explicit `{ module, export }` form, checked. */
function explicitTarget(
  target: { module: string | URL; export: string },
  describe: string,
): TargetRef {
  const module = target.module instanceof URL ? target.module.href : String(target.module);
  if (!/^[a-z][a-z0-9+.-]*:/i.test(module)) {
    throw new TypeError(
      `${describe} as target.module is not an absolute URL: received "${module}"; ` +
        `pass import.meta.url or new URL("./file.ts", import.meta.url)`,
    );
  }
  return { module, export: target.export, hash: 0 };
}

/**
 * Turns a target into a module URL and export name, synchronously when every
 * module searched is local (the usual case) so that `start()` can throw at
 * once and send the child its start message without delay.
 *
 * Searched, in order: the module that constructed the Process (the caller),
 * the main module, then the modules they import, breadth first. A match is
 * an export whose local name is the function's (or class's) name.
 *
 * @param target The function, class or explicit reference.
 * @param caller URL of the calling module, from {@linkcode callerModule}.
 * @param mainModule URL of the runtime's entry module, if any.
 * @param describe Start of error messages, e.g. `Cannot start process "P"`.
 * @returns The reference, or a Promise of it when a remote source must be fetched first.
 * @throws {TypeError} When nothing can be found: the message says to export it.
 */
export function resolveTarget(
  target: TargetSpec,
  caller: string | undefined,
  mainModule: string | undefined,
  describe: string,
): TargetRef | Promise<TargetRef> {
  if (typeof target !== "function") return explicitTarget(target, describe);
  const known = resolved.get(target);
  if (known) return known;
  const step = (): TargetRef | Promise<TargetRef> => {
    const result = search(target, caller, mainModule, describe);
    if (typeof result === "string") return fetchExports(result).then(step);
    remember(target, result);
    return result;
  };
  return step();
}

const MAX_MODULES = 300;

/**
 * Looks for an export of `fn` (by its name) in `roots` and the modules they
 * import, breadth first: a reference, the URL of a remote source to fetch
 * first, or (not found) how many module sources could not be read.
 */
function findExport(
  // deno-lint-ignore no-explicit-any
  fn: (...args: any[]) => unknown,
  roots: (string | undefined)[],
): TargetRef | string | number {
  const name = fn.name;
  const queue = roots.filter((u): u is string => !!u && !isLibraryCode(u));
  const visited = new Set<string>();
  let unreadable = 0;
  while (queue.length > 0 && visited.size < MAX_MODULES) {
    const url = queue.shift()!;
    if (visited.has(url)) continue;
    visited.add(url);
    const info = exportsOf(url);
    if (info === undefined) return url;
    if (!info) {
      unreadable++;
      continue;
    }
    const exported = info.local.get(name);
    if (exported) {
      const as = exported.includes(name) ? name : exported[0];
      return { module: url, export: as, hash: sourceHash(fn) };
    }
    for (const next of info.imports) {
      if (!visited.has(next) && !isLibraryCode(next)) queue.push(next);
    }
  }
  return unreadable;
}

/** One pass of the search: a reference, or the URL of a remote source it needs first. */
function search(
  // deno-lint-ignore no-explicit-any
  target: (...args: any[]) => unknown,
  caller: string | undefined,
  mainModule: string | undefined,
  describe: string,
): TargetRef | string {
  const name = target.name;
  const source = Function.prototype.toString.call(target);
  const what = /^class[\s{]/.test(source) ? "class" : "function";
  if (!name || name === "anonymous") {
    throw new TypeError(
      `${describe} as its target is an anonymous ${what}: a child process or thread imports its target by name, ` +
        `so pass a named, exported ${what} (export function task() {...}) or ` +
        `{ module: import.meta.url, export: "task" }`,
    );
  }
  const found = findExport(target, [caller, mainModule]);
  if (typeof found !== "number") return found;
  const unreadable = found;
  const where = caller ?? mainModule ?? "the calling module";
  const arrow = /^(async\s*)?(\([^)]*\)|[\w$]+)\s*=>/.test(source)
    ? ` (an inline arrow function cannot be imported: declare it with "export function")`
    : "";
  const hint = unreadable > 0
    ? ` (${unreadable} module source(s) could not be read: ${unreadableSourceHint()})`
    : "";
  throw new TypeError(
    `${describe} as its target ${what} "${name}" is not exported: a child process or thread imports its ` +
      `target by name, so export it from ${where} (export ${
        what === "class" ? "class" : "function"
      } ${name} ...), or pass target: { module: import.meta.url, export: "${name}" }${arrow}${hint}`,
  );
}

/**
 * Locates the class of an argument or a queue item by module URL and export
 * name, as pickle finds a class by module and name, so the receiving side can
 * revive the instance as one of the same class. Searched like a target (the
 * calling module, the main module, then `extraRoots`, and what they import),
 * synchronously: a remote module not read yet is not searched.
 *
 * @param proto The instance's prototype.
 * @param extraRoots More modules to search first-level: those this process imported targets from.
 * @returns The class's reference, or why it cannot be located (completing "received …").
 */
export function locateClass(proto: object, extraRoots: readonly string[]): TargetRef | string {
  const ctor = (proto as { constructor?: unknown }).constructor;
  if (
    typeof ctor !== "function" || !Object.hasOwn(proto, "constructor") || ctor.prototype !== proto
  ) {
    return "an object whose prototype is not a class's: pass a plain object";
  }
  const known = resolved.get(ctor);
  if (known) return known;
  const name = ctor.name;
  const source = Function.prototype.toString.call(ctor);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    return `an instance of ${
      name || "a built-in class"
    }, which is built in and cannot be copied: ` +
      `pass its data as a plain object`;
  }
  if (!name) {
    return "an instance of an anonymous class, which a child cannot import: export a named class, " +
      "or pass a plain object";
  }
  // deno-lint-ignore no-explicit-any
  const found = findExport(ctor as (...args: any[]) => unknown, [
    callerModule(),
    mainModuleUrl(),
    ...extraRoots,
  ]);
  if (typeof found === "object") {
    remember(ctor, found);
    return found;
  }
  const hint = typeof found === "string"
    ? ` (the remote module ${found} has not been read yet)`
    : found > 0
    ? ` (${found} module source(s) could not be read: grant --allow-read)`
    : "";
  return `an instance of class ${name}, which the other side cannot import as no module it ` +
    `can find exports it: export the class (export class ${name} ...), or pass a plain object${hint}`;
}
