/**
 * The Deno adapter's memory shared between processes: libc through FFI
 * (Linux, with `--allow-ffi`), `mmap` of a file with `MAP_SHARED`, and futex
 * waits and wake-ups on its 32-bit words.
 *
 * @module
 */

import type { MapOptions, SharedMapping } from "../../runtime_types.ts";

const LIBC_SYMBOLS = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  flock: { parameters: ["i32", "i32"], result: "i32" },
  sched_yield: { parameters: [], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  // syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3); variadic, called with integers only.
  futexWake: {
    name: "syscall",
    parameters: ["i64", "pointer", "i64", "i64", "pointer", "pointer", "i64"],
    result: "i64",
  },
  // The same call for FUTEX_WAIT, run in the runtime's blocking pool so no event loop stops.
  futexWait: {
    name: "syscall",
    parameters: ["i64", "pointer", "i64", "i64", "buffer", "pointer", "i64"],
    result: "i64",
    nonblocking: true,
  },
} as const;

type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>;

const SYS_FUTEX: Record<string, bigint> = { x86_64: 202n, aarch64: 98n };
const FUTEX_WAIT = 0n;
const FUTEX_WAKE = 1n;
const O_RDWR_CLOEXEC = 0o2 | 0o2000000;
const PROT_READ_WRITE = 3;
const MAP_SHARED = 1;
const LOCK_EX_NB = 2 | 4;

let libcState: Libc | null | undefined;

/** libc through FFI, or null where the host cannot (not Linux, no --allow-ffi, opted out). */
export function libc(): Libc | null {
  if (libcState !== undefined) return libcState;
  libcState = null;
  if (Deno.build.os !== "linux" || !(Deno.build.arch in SYS_FUTEX)) return null;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
  const variable = "MULTIPROC_SHARED_MEMORY";
  if (
    Deno.permissions.querySync({ name: "env", variable }).state === "granted" &&
    Deno.env.get(variable) === "0"
  ) {
    return null;
  }
  try {
    libcState = Deno.dlopen("libc.so.6", LIBC_SYMBOLS);
  } catch {
    libcState = null; // Not glibc (musl, say): fall back to files.
  }
  return libcState;
}

/**
 * Offers this thread's core to another thread or process that is ready to
 * run (`sched_yield(2)`), as a spin that waits for another process does:
 * nothing where {@linkcode canMapShared} is false.
 */
export function yieldCore(): void {
  libc()?.symbols.sched_yield();
}

/**
 * Whether this process can map memory shared with other processes (Deno on
 * Linux with `--allow-ffi`, unless `MULTIPROC_SHARED_MEMORY=0`). The answer
 * is the same for the whole process.
 */
export function canMapShared(): boolean {
  return libc() !== null;
}

/**
 * Maps the first `bytes` of the file at `path` (extended with zeros if
 * shorter; made if missing, unless `existing`) into shared memory. With
 * `lock`, also takes an exclusive `flock` on the file, held until `unmap()`
 * or this process's end. Throws where {@linkcode canMapShared} is false, if
 * `existing` and there is no such file, or if `lock` and another holds it.
 */
export function mapShared(
  path: string,
  bytes: number,
  { existing = false, lock = false }: MapOptions = {},
): SharedMapping {
  const lib = libc();
  if (!lib) throw new Error("Shared memory between processes needs Linux and --allow-ffi");
  const file = Deno.openSync(path, { read: true, write: true, create: !existing, mode: 0o600 });
  try {
    // Never shrink (another process may be using it); growing fills with zeros.
    if (file.statSync().size < bytes) file.truncateSync(bytes);
  } finally {
    file.close();
  }
  const fd = lib.symbols.open(new TextEncoder().encode(path + "\0"), O_RDWR_CLOEXEC, 0);
  if (fd < 0) throw new Error(`Cannot open ${path} to map it`);
  if (lock && lib.symbols.flock(fd, LOCK_EX_NB) !== 0) {
    lib.symbols.close(fd);
    throw new Error(`Cannot lock ${path}: another holds it`);
  }
  const pointer = lib.symbols.mmap(null, BigInt(bytes), PROT_READ_WRITE, MAP_SHARED, fd, 0n);
  // A lock lives as long as its descriptor: kept open until unmap() then.
  if (!lock) lib.symbols.close(fd);
  if (pointer === null || Deno.UnsafePointer.value(pointer) === 0xffffffffffffffffn) {
    if (lock) lib.symbols.close(fd);
    throw new Error(`Cannot map ${path} into memory`);
  }
  const words = new Int32Array(Deno.UnsafePointerView.getArrayBuffer(pointer, bytes));
  const sys = SYS_FUTEX[Deno.build.arch];
  let mapped = true;
  return {
    words,
    async wait(index, expected, timeoutMs) {
      if (!mapped) return;
      const ms = Math.max(0, Math.min(timeoutMs, 2 ** 31 - 1));
      const timespec = new BigInt64Array([
        BigInt(Math.floor(ms / 1000)),
        BigInt(Math.floor((ms % 1000) * 1e6)),
      ]);
      const address = Deno.UnsafePointer.offset(pointer, index * 4);
      await lib.symbols.futexWait(sys, address, FUTEX_WAIT, BigInt(expected), timespec, null, 0n);
    },
    wake(index, count) {
      if (!mapped) return;
      const address = Deno.UnsafePointer.offset(pointer, index * 4);
      lib.symbols.futexWake(sys, address, FUTEX_WAKE, BigInt(count), null, null, 0n);
    },
    unmap() {
      if (!mapped) return;
      mapped = false;
      lib.symbols.munmap(pointer, BigInt(bytes));
      if (lock) lib.symbols.close(fd);
    },
  };
}
