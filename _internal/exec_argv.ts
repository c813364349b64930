/**
 * The `execArgv` option of `Process` and `TcpServer` (extra runtime flags
 * for a child), with `denoArgs`, its older Deno-only name, as an alias.
 *
 * @module
 */

/** The two spellings of the option, as the public options types declare them. */
export interface ExecArgvOptions {
  execArgv?: readonly string[];
  denoArgs?: readonly string[];
}

function received(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) {
    const bad = value.findIndex((item) => typeof item !== "string");
    return `an array whose item ${bad} is ${value[bad] === null ? "null" : typeof value[bad]}`;
  }
  return typeof value;
}

/**
 * The child's extra runtime flags from `options`: `execArgv`, or `denoArgs`
 * when only that is given, copied.
 *
 * @param options The options holding either spelling.
 * @param describe The start of the error message, e.g. `Cannot create process`.
 * @returns The flags (a new array; empty when neither is given).
 * @throws {TypeError} If both are given, or the one given is not an array of strings.
 */
export function execArgvOption(options: ExecArgvOptions, describe: string): string[] {
  const { execArgv, denoArgs } = options;
  if (execArgv !== undefined && denoArgs !== undefined) {
    throw new TypeError(
      `${describe} as both execArgv and denoArgs are given: denoArgs is the older name of ` +
        `execArgv, so give only execArgv`,
    );
  }
  const name = execArgv !== undefined ? "execArgv" : "denoArgs";
  const flags: unknown = execArgv ?? denoArgs ?? [];
  if (!Array.isArray(flags) || flags.some((flag) => typeof flag !== "string")) {
    throw new TypeError(
      `${describe} as ${name} is not an array of strings: received ${received(flags)}`,
    );
  }
  return [...flags];
}
