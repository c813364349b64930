/**
 * What a child bootstrap minimally has to do, without the library: read a
 * start message (`{"module": url, "export": name}`) from stdin until EOF,
 * import the module and call the export. `process_start.ts` times it as the
 * floor for any design that starts a fresh runtime per child and tells it
 * over a pipe what to run.
 *
 * @module
 */

const message = JSON.parse(await new Response(Deno.stdin.readable).text());
const module = await import(message.module);
await module[message.export]();
