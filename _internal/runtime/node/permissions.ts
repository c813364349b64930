/**
 * The Node adapter's permissions: Node has none, so a child needs no flags
 * for them and a Unix socket needs no check; and what to do when something
 * cannot be done (ends of messages).
 *
 * @module
 */

/** Runtime flags that give a child this process's permissions: none on Node, which has no permissions. */
export function permissionFlags(
  _imports: (string | undefined)[] = [],
): string[] {
  return [];
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
