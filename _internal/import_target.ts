/**
 * Importing what a parent named by module URL and export name, in the
 * process or thread that runs it: a target function, a `Process`/`Thread`
 * subclass, a connection handler, a barrier action, or the class of an
 * argument. Written once for all of them (CPython's `spawn._main` and
 * pickle's `find_class`).
 *
 * While a child imports such a module it is still "bootstrapping", as
 * Python says: a module that starts a process at top level (no main guard)
 * would start one more child from every child, without end. So every start
 * asks {@linkcode checkNotBootstrapping} first and throws instead, as
 * Python's spawn does.
 *
 * @module
 */

import { isMainDone } from "./context.ts";
import { MAIN_GUARD, mainModuleUrl } from "./runtime.ts";
import { sourceHash, type TargetRef } from "./target.ts";

/** Modules being imported now by {@linkcode importModule}, in the order their imports began. */
const importing: string[] = [];

/** Every module {@linkcode importModule} imported in this process or thread: where classes may be. */
const imported = new Set<string>();

/** What a reference names, for messages. */
export type ExportKind = "function" | "class" | "handler" | "action";

/**
 * Imports export `ref.export` of `ref.module` and checks that it is a
 * function (or class) with the parent's source text. Starts made while the
 * module is being imported throw (see {@linkcode checkNotBootstrapping}).
 *
 * @param ref The module URL, export name and source hash (0: unchecked).
 * @param describe Start of error messages, e.g. `Cannot run process "w"`.
 * @param what What the export is, for messages.
 * @returns The export.
 * @throws {TypeError} If the export is missing, not a function, or not the parent's.
 */
export async function importTarget(
  ref: TargetRef,
  describe: string,
  what: ExportKind,
): Promise<(...args: never[]) => unknown> {
  const module = await importModule(ref.module);
  return exportOf(module, ref, describe, what);
}

/**
 * Imports a module a parent named (a target's, or an argument's class's):
 * starts made while it is evaluated throw (see {@linkcode checkNotBootstrapping}).
 *
 * @param url The module's URL.
 * @returns Its namespace.
 */
export async function importModule(url: string): Promise<Record<string, unknown>> {
  // The program's main module already runs here: importing it evaluates nothing (it only waits
  // for the main module's end), so it must not hold the guard meanwhile.
  if (isRunningMain(url)) return await import(url);
  importing.push(url);
  let module: Record<string, unknown>;
  try {
    module = await import(url);
  } finally {
    importing.splice(importing.lastIndexOf(url), 1);
  }
  imported.add(url);
  return module;
}

/**
 * Whether `url` is this program's main module while it is still running:
 * `import()` of it resolves only once it has finished, so a program that
 * awaits something needing that import would wait for itself.
 *
 * @param url A module URL.
 * @returns Whether importing it now would wait for the program's end.
 */
export function isRunningMain(url: string): boolean {
  return url === mainModuleUrl() && !isMainDone();
}

/**
 * Export `ref.export` of an imported module, checked as {@linkcode importTarget} does.
 *
 * @throws {TypeError} If the export is missing, not a function, or not the parent's.
 */
export function exportOf(
  module: Record<string, unknown>,
  ref: TargetRef,
  describe: string,
  what: ExportKind,
): (...args: never[]) => unknown {
  if (!(ref.export in module)) {
    throw new TypeError(
      `${describe} as ${ref.module} has no export named "${ref.export}": export the ${what}`,
    );
  }
  const value = module[ref.export];
  if (typeof value !== "function") {
    const kind = what === "handler" ? "function or class" : what === "class" ? "class" : "function";
    throw new TypeError(
      `${describe} as export "${ref.export}" of ${ref.module} is not a ${kind}: received ${typeof value}`,
    );
  }
  if (ref.hash !== 0 && sourceHash(value) !== ref.hash) {
    throw new TypeError(
      `${describe} as export "${ref.export}" of ${ref.module} is not the ${what} the sender ` +
        `named (its source differs): give it a unique name, or pass { module, export } explicitly`,
    );
  }
  return value as (...args: never[]) => unknown;
}

/** The modules {@linkcode importModule} has imported here (where an argument's class may be exported). */
export function importedModules(): string[] {
  return [...imported];
}

/**
 * Throws if this process or thread is still importing a target's module:
 * a start there means the module starts processes (or threads, or servers)
 * at top level, and every child would do the same (Python's "An attempt has
 * been made to start a new process before the current process has finished
 * its bootstrapping phase").
 *
 * @param describe Start of the message, e.g. `Cannot start process "P-2"`.
 * @param what What is started, e.g. `a process`.
 * @throws {Error} During the import of a target's module; the message names the runtime's main guard.
 */
export function checkNotBootstrapping(describe: string, what: string): void {
  if (importing.length === 0) return;
  const module = importing[0];
  throw new Error(
    `${describe} as this child has not finished its bootstrapping phase: it is importing ` +
      `${module} to find its target, and that module starts ${what} when it is imported, so ` +
      `every child would start another: put the module's main code under ${MAIN_GUARD} ` +
      `{ ... } so that it runs only in the main program`,
  );
}
