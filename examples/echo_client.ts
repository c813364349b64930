#!/usr/bin/env -S deno run --allow-net=127.0.0.1
/**
 * Seed section "client端" (the client): connects to the echo server, prompts
 * `>>>:`, sends each non-empty line and prints the reply.
 *
 * It reads stdin line by line (not a terminal prompt), so it also works with
 * piped input: `printf 'hello\nworld\n' | deno run -A examples/echo_client.ts`.
 * Where the seed prints what one `recv(1024)` returns, this waits for as
 * many bytes as it sent (an upper-cased echo has the same length), so a
 * reply that arrives in pieces is printed whole.
 */
import { parseArgs } from "node:util";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The lines of a byte stream, without their line endings. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let end;
    while ((end = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, end).replace(/\r$/, "");
      rest = rest.slice(end + 1);
    }
  }
  if (rest) yield rest;
}

async function prompt(): Promise<void> {
  await Deno.stdout.write(encoder.encode(">>>:"));
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { port: { type: "string", default: "9011" } },
  });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: Number(values.port) });
  await prompt();
  for await (const line of lines(Deno.stdin.readable)) {
    const msg = line.trim(); // msg = input('>>>:').strip()
    if (!msg) { // if not msg: continue
      await prompt();
      continue;
    }
    const data = encoder.encode(msg);
    let sent = 0;
    while (sent < data.length) sent += await client.write(data.subarray(sent)); // client.send(...)
    const reply = new Uint8Array(data.length);
    let got = 0;
    while (got < reply.length) {
      const n = await client.read(reply.subarray(got)); // data = client.recv(1024)
      if (n === null) break;
      got += n;
    }
    if (got === 0) {
      console.log("(the server closed the connection)");
      break;
    }
    console.log(decoder.decode(reply.subarray(0, got)));
    await prompt();
  }
  console.log(); // end the last prompt's line
  client.close();
}
