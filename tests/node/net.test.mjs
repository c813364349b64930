/** TcpServer on Node.js: connections served here, by threads and by child processes. */
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
import { Reverser, upper } from "./fixtures/targets.mjs";
import { faulty, whoServes } from "./fixtures/net_handlers.mjs";
import { sleep, waitUntil } from "./_helpers.mjs";
import { Client, staysSilent, within } from "./_client.mjs";

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

test("a port in use throws AddrInUse from the constructor", async () => {
  const first = new TcpServer({ port: 0, handler: upper });
  throws(() => new TcpServer({ port: first.address.port, handler: upper }), { name: "AddrInUse" });
  await first.shutdown();
});

/** A server that records what it would log. */
class RecordingServer extends TcpServer {
  errors = [];
  handleError(error, client) {
    this.errors.push({ error, client });
  }
}

/** Starts a recording server with the `faulty` handler on a free port, serving in the background. */
async function startServer(options) {
  const server = new RecordingServer({
    port: 0,
    handler: faulty,
    workers: options.mode.startsWith("prefork") ? 2 : 1,
    ...options,
  });
  const address = await within(server.listening, 60_000, "binding");
  const serving = server.serveForever();
  return {
    server,
    port: address.port,
    serving,
    async dispose() {
      await within(server.shutdown({ timeout: 1000 }), 30_000, "shutdown");
      await serving;
    },
  };
}

/** Runs `fn(s)` with a started server `s` and shuts it down afterwards, whatever happened. */
async function withServer(options, fn) {
  const s = await startServer(options);
  try {
    await fn(s);
  } finally {
    await s.dispose();
  }
}

/** Connects and echoes until it works (a prefork child that just died may still hold the port). */
async function servedClient(port, text) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    let client;
    try {
      client = await Client.connect(port);
      const reply = await client.echo(text);
      if (reply === text.toUpperCase()) return client;
      if (Date.now() > deadline) throw new Error(`No echo after 30 s: ${reply}`);
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    client?.close();
    await sleep(100);
  }
}

/** Whether this Node.js can share a port with reusePort (Linux SO_REUSEPORT): 22.12 / 23.1 on. */
const [major, minor] = process.versions.node.split(".").map(Number);
const hasReusePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);

/** Modes this Node.js can serve in. */
const MODES = hasReusePort
  ? ["async", "thread", "process", "prefork-process", "prefork-thread"]
  : ["async", "thread", "process"];

for (const mode of MODES) {
  test(`TcpServer "${mode}": a handler that throws ends its connection only, logged with the client`, async () => {
    await withServer({ mode }, async (s) => {
      const good = await Client.connect(s.port);
      const bad = await Client.connect(s.port);
      try {
        equal(await good.echo("abc"), "ABC");
        equal(await bad.roundTrip("boom"), null, "the failing connection is closed");
        equal(await good.echo("still here"), "STILL HERE");
        const late = await Client.connect(s.port);
        equal(await late.echo("new client"), "NEW CLIENT");
        late.close();
        await waitUntil(() => s.server.errors.length >= 1, "the error to be logged");
        equal(s.server.errors.length, 1);
        const [{ error, client }] = s.server.errors;
        equal(error.message, "boom from the handler");
        match(error.stack ?? "", /net_handlers\.mjs/, "the handler's own stack");
        deepStrictEqual(client, { transport: "tcp", hostname: "127.0.0.1", port: bad.port });
      } finally {
        good.close();
        bad.close();
      }
    });
  });

  test(`TcpServer "${mode}": shutdown with clients connected ends within the timeout, clients see EOF`, async () => {
    const s = await startServer({ mode });
    const clients = await Promise.all(Array.from({ length: 4 }, () => Client.connect(s.port)));
    try {
      for (const client of clients) equal(await client.echo("hi"), "HI");
      await within(s.server.shutdown({ timeout: 200 }), 30_000, "shutdown");
      await within(s.serving, 30_000, "serveForever() after shutdown()");
      for (const client of clients) equal(await client.read(), null);
      await rejects(Client.connect(s.port), { code: "ECONNREFUSED" });
      equal(s.server.errors.length, 0, "closing at shutdown is not an error");
      await rejects(s.server.serveForever(), /has been shut down/);
      await s.dispose(); // harmless after shutdown
    } finally {
      for (const client of clients) client.close();
    }
  });

  test(`TcpServer "${mode}": maxConnections holds new clients back until one finishes`, async () => {
    // Runners to spare, so that the limit, not a lack of runners, is what holds a client back.
    const options = mode.startsWith("prefork")
      ? { workers: 1, maxConnections: 1 }
      : { workers: 2, maxConnections: 1 };
    await withServer({ mode, ...options }, async (s) => {
      const first = await Client.connect(s.port);
      const second = await Client.connect(s.port); // the kernel accepts it into the backlog
      try {
        equal(await first.echo("one"), "ONE");
        await second.send("two");
        // Long enough for a runner to start (a child process takes a second or more under load):
        // a shorter wait would let a server that ignored the limit pass.
        ok(await staysSilent(second, mode === "process" ? 3_000 : 1_000), "served past the limit");
        first.close();
        equal(await second.read(), "TWO");
      } finally {
        first.close();
        second.close();
      }
    });
  });
}

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
