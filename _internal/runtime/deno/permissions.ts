/**
 * The Deno adapter's permissions: the flags that give a child this process's
 * permissions (Deno has no inheritance), the check before listening on a Unix
 * socket, and what to grant when a permission is missing (ends of messages).
 *
 * @module
 */

const PERMISSIONS = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;

let cachedFlags: string[] | undefined;

/**
 * Runtime flags that give a child the same permissions as this process.
 *
 * Deno has no permission inheritance for subprocesses, so the flags are rebuilt
 * from `Deno.permissions.querySync`: all granted gives `-A`, otherwise one
 * `--allow-*` per granted name and `--deny-*` per denied one. Scoped grants
 * are invisible to a global query, except that `import` is queried for the
 * hosts of the library and of `imports` (the child's entry, the target's
 * module…), so code imported by URL still loads in the child.
 */
export function permissionFlags(imports: (string | undefined)[] = []): string[] {
  if (!cachedFlags) {
    const states = PERMISSIONS.map((name) =>
      [name, Deno.permissions.querySync({ name } as Deno.PermissionDescriptor).state] as const
    );
    if (states.every(([, state]) => state === "granted")) {
      cachedFlags = ["-A"];
    } else {
      cachedFlags = [];
      for (const [name, state] of states) {
        if (state === "granted") cachedFlags.push(`--allow-${name}`);
        else if (state === "denied") cachedFlags.push(`--deny-${name}`);
      }
    }
  }
  if (cachedFlags[0] === "-A") return cachedFlags;
  const hosts = new Set<string>();
  for (const url of [import.meta.url, ...imports]) {
    if (url && /^https?:/.test(url)) hosts.add(new URL(url).host);
  }
  const extra: string[] = [];
  for (const host of hosts) {
    const state = Deno.permissions.querySync({ name: "import", host }).state;
    if (state === "granted") extra.push(`--allow-import=${host}`);
  }
  return [...cachedFlags, ...extra];
}

/**
 * Throws a clear error unless this process may listen on a Unix socket
 * (Deno asks for `--allow-net` even for a socket file).
 *
 * @param what What is being attempted, for the message.
 */
export function checkSocketPermission(what: string): void {
  if (Deno.permissions.querySync({ name: "net" }).state !== "granted") {
    throw new Error(
      `Cannot ${what}: shared objects are served to other threads and processes over a Unix ` +
        `socket, which Deno allows only with --allow-net (or -A)`,
    );
  }
}

/** What to do when a module's source cannot be read to find an exported target (message end). */
export function unreadableSourceHint(): string {
  return "grant --allow-read for local modules or --allow-import for remote ones, or pass the " +
    "target explicitly";
}

/** What to do when the private folder cannot be created in the temporary folder (message end). */
export function privateFolderHint(): string {
  return "grant --allow-write (and --allow-read), or -A";
}
