// Opens N Socket.IO connections to a server and holds them: raw websockets speaking Engine.IO
// v4 / Socket.IO v5 (no client library, so one process holds thousands), for the connection
// ceiling test (tests/test_connection_limit.py) and by hand:
//
//   node hold_connections.mjs --url ws://127.0.0.1:PORT --clients 1100 [--timeout 60]
//
// Every client connects at once, joins the default namespace and waits for its `snapshot`.
// Prints "RESULT {json}" with how many got one, how many failed and how long it took, then
// closes everything.
import WebSocket from "ws";

const args = { url: "", clients: 1100, timeout: 60 };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, "");
  args[key] = key === "url" ? process.argv[i + 1] : Number(process.argv[i + 1]);
}
const started = Date.now();
const sockets = [];
let snapshots = 0;
let failures = 0;
let firstError = null;
let finish;
const finished = new Promise((resolve) => {
  finish = resolve;
});
const settle = () => {
  if (snapshots + failures === args.clients) finish();
};

for (let i = 0; i < args.clients; i++) {
  const ws = new WebSocket(`${args.url}/socket.io/?EIO=4&transport=websocket`);
  let got = false;
  let failed = false;
  const fail = (why) => {
    if (got || failed) return;
    failed = true;
    failures += 1;
    firstError ??= String(why);
    settle();
  };
  ws.on("message", (data) => {
    const text = data.toString();
    if (text.startsWith("0")) ws.send("40"); // Engine.IO open -> join the namespace
    else if (text === "2") ws.send("3"); // ping -> pong
    else if (text.startsWith('42["snapshot"') && !got) {
      got = true;
      snapshots += 1;
      settle();
    }
  });
  ws.on("error", fail);
  ws.on("close", () => fail("closed"));
  sockets.push(ws);
}
const timer = setTimeout(finish, args.timeout * 1000);
await finished;
clearTimeout(timer);
const result = {
  clients: args.clients,
  snapshots,
  failures,
  seconds: (Date.now() - started) / 1000,
  first_error: firstError,
};
for (const ws of sockets) ws.terminate();
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(0);
