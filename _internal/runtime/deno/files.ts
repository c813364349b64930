/**
 * The Deno adapter's files: private folders and their removal, small report
 * files, and module sources (to find exported targets).
 *
 * @module
 */

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

/** Writes a small file synchronously (error reports). */
export function writeFileText(path: string, text: string): void {
  Deno.writeTextFileSync(path, text);
}

/** Renames a file (atomically, within one file system), replacing any file at `to`. */
export function renameFile(from: string, to: string): void {
  Deno.renameSync(from, to);
}

/** The names of the files in `path` whose names start with `prefix`; empty if unreadable. */
export function listFiles(path: string, prefix: string): string[] {
  const names: string[] = [];
  try {
    for (const entry of Deno.readDirSync(path)) {
      if (entry.isFile && entry.name.startsWith(prefix)) names.push(entry.name);
    }
  } catch {
    // Gone, or not ours to read.
  }
  return names;
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
