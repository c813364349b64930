/**
 * TcpServer on Node.js: connections served here, by threads and by child
 * processes; handler processes that crash; prefork modes where this Node.js
 * has reusePort, a clear error where it has not. (net_modes.test.mjs: the
 * cases every mode shares.)
 */
import {
  deepStrictEqual,
  doesNotMatch,
  equal,
  match,
  ok,
  rejects,
  throws,
} from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { activeChildren, TcpServer } from "./_pkg.mjs";
import { LineShouter, Reverser, upper } from "./fixtures/targets.mjs";
import { whoServes } from "./fixtures/net_handlers.mjs";
import { waitUntil } from "./_helpers.mjs";
import { Client, hasReusePort, MODES, servedClient, withServer } from "./_net.mjs";

/** Sends `text` and resolves with the first reply chunk. */
function ask(port, text) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(text));
    socket.once("data", (data) => {
      resolve(String(data));
      socket.end();
    });
    socket.on("error", reject);
  });
}

for (const mode of ["async", "thread", "process"]) {
  test(`TcpServer "${mode}" answers concurrent clients with the exported handler`, async () => {
    const server = new TcpServer({ port: 0, handler: upper, mode, workers: 1 });
    const serving = server.serveForever();
    const { port } = server.address;
    ok(port > 0);
    const replies = await Promise.all(["a", "b", "c", "d"].map((x) => ask(port, x)));
    for (const [i, reply] of replies.entries()) match(reply, new RegExp(`^${"ABCD"[i]} \\d+$`));
    const pids = new Set(replies.map((r) => Number(r.split(" ")[1])));
    if (mode === "process") ok(!pids.has(process.pid), "served by child processes");
    else equal(pids.has(process.pid), true);
    await server.shutdown();
    await serving;
  });
}

test("a BaseRequestHandler subclass serves in a child process", async () => {
  const server = new TcpServer({ port: 0, handler: Reverser, mode: "process", workers: 1 });
  const serving = server.serveForever();
  equal(await ask(server.address.port, "abc"), "cba");
  await server.shutdown();
  await serving;
});

test("a StreamRequestHandler subclass reads lines split across writes, in a child process", async () => {
  const server = new TcpServer({ port: 0, handler: LineShouter, mode: "process", workers: 1 });
  const serving = server.serveForever();
  const reply = await new Promise((resolve, reject) => {
    const chunks = [];
    const socket = net.connect(server.address.port, "127.0.0.1", () => {
      socket.write("one\ntw");
      setTimeout(() => socket.end("o\nthree"), 20);
    });
    socket.on("data", (data) => chunks.push(data));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString()));
    socket.on("error", reject);
  });
  equal(reply, "ONE\nTWO\nTHREElines:3");
  await server.shutdown();
  await serving;
});

test("a port in use throws AddrInUse from the constructor", async () => {
  const first = new TcpServer({ port: 0, handler: upper });
  throws(() => new TcpServer({ port: first.address.port, handler: upper }), { name: "AddrInUse" });
  await first.shutdown();
});

for (const mode of MODES.filter((m) => m === "process" || m === "prefork-process")) {
  test(`TcpServer "${mode}": a handler process that exits or is killed closes its connections only, logged`, async () => {
    await withServer({ mode }, async (s) => {
      const good = await Client.connect(s.port);
      try {
        equal(await good.echo("abc"), "ABC");
        for (const command of ["exit", "kill"]) {
          const bad = await servedClient(s.port, "fine");
          equal(await bad.roundTrip(command), null, `${command}: the connection is closed`);
          bad.close();
        }
        (await servedClient(s.port, "late")).close();
        if (mode === "process") {
          equal(await good.echo("still here"), "STILL HERE");
          await waitUntil(() => s.server.errors.length >= 2, "both crashes to be logged");
          equal(s.server.errors.length, 2);
          const messages = s.server.errors.map(({ error }) => error.message).join("\n");
          match(messages, /exited with code 3/);
          match(messages, /was killed by signal 9/);
          for (const { client } of s.server.errors) equal(client.hostname, "127.0.0.1");
        }
      } finally {
        good.close();
      }
    });
  });
}

for (const mode of ["prefork-process", "prefork-thread"]) {
  if (hasReusePort) {
    test(`TcpServer "${mode}" shares the port between its runners on this Node.js (reusePort)`, async () => {
      await withServer({ mode, handler: whoServes }, async (s) => {
        // The kernel spreads connections by a hash of their addresses: 16 clients all going to one
        // of the 2 runners would happen once in 2^15 runs.
        const clients = await Promise.all(Array.from({ length: 16 }, () => Client.connect(s.port)));
        try {
          const replies = [];
          for (const client of clients) replies.push(await client.roundTrip("who"));
          const [pids, threads] = [new Set(), new Set()];
          for (const reply of replies) {
            match(reply, /^\d+:\d+$/);
            pids.add(Number(reply.split(":")[0]));
            threads.add(reply);
          }
          if (mode === "prefork-process") {
            ok(!pids.has(process.pid), "served by child processes");
            equal(pids.size, 2, "the kernel spreads clients over both runners");
          } else {
            deepStrictEqual([...pids], [process.pid], "served by threads of this process");
            equal(threads.size, 2, "the kernel spreads clients over both runners");
          }
        } finally {
          for (const client of clients) client.close();
        }
      });
    });
  } else {
    test(`TcpServer "${mode}" fails with a clear error on this Node.js (no reusePort before 22.12)`, async () => {
      // What this Node.js lacks and what to do: not Deno's --unstable-net advice.
      const message = (error) => {
        match(
          error.message,
          new RegExp(`Node\\.js ${process.versions.node.replaceAll(".", "\\.")} .*22\\.12`),
        );
        doesNotMatch(error.message, /unstable-net|exit code 70/);
        return true;
      };
      if (mode === "prefork-thread") {
        throws(() => new TcpServer({ port: 0, handler: upper, mode, workers: 1 }), message);
      } else {
        const server = new TcpServer({ port: 0, handler: upper, mode, workers: 1 });
        await rejects(server.listening, message);
        await rejects(server.serveForever(), message);
        await server.shutdown();
        equal(activeChildren().length, 0);
      }
    });
  }
}
