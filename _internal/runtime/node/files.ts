/**
 * The Node adapter's files: private folders and their removal, small report
 * files, and module sources (to find exported targets).
 *
 * @module
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

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

/** Writes a small file synchronously (error reports). */
export function writeFileText(file: string, text: string): void {
  fs.writeFileSync(file, text);
}

/** Renames a file (atomically, within one file system), replacing any file at `to`. */
export function renameFile(from: string, to: string): void {
  fs.renameSync(from, to);
}

/** The names of the files in `dir` whose names start with `prefix`; empty if unreadable. */
export function listFiles(dir: string, prefix: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.startsWith(prefix))
      .map((entry) => entry.name);
  } catch {
    return []; // Gone, or not ours to read.
  }
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
