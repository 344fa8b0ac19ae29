// The reference for benchmarks/fanout.py --reference: a minimal Node socket.io v4 server doing
// the job presence-dash does in the benchmark, so both can be measured in the same run.
//
//   node server.mjs --port 8123 --people 5000 --rate 200 --push-interval-ms 100
//
// Same wire as bench_server.py: `snapshot` on connect ({seq, server_time, people, providers},
// PERSON objects of the same keys and value sizes: the same byte size), `presence` batches
// ({seq, server_time, changes}) at most one per push interval, made of R status flips per
// second (online -> away -> offline) that start on POST /_bench/go; GET /_bench/stats reports
// {flips, seq, pid} and GET /healthz answers. Ping interval and timeout 10 s / 10 s and no
// websocket compression, as the app is configured. What it leaves out is what presence-dash
// does besides fan-out (providers, the board's rules, history, sign-in): this is the floor of
// "socket.io on Node" for the same messages, not a second implementation of the app.
import { createServer } from "node:http";
import { Server } from "socket.io";

function parseArgs(argv) {
  const args = { port: 8123, people: 5000, rate: 200, pushIntervalMs: 100 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "").replace(/-(.)/g, (_, c) => c.toUpperCase());
    args[key] = Number(argv[i + 1]);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const TEAMS = ["Support", "Sales", "Engineering", "Operations", "Finance"];
const CYCLE = ["online", "away", "offline"];
const POLL_MS = 50; // bench_server.py's synthetic provider polls every 50 ms
const iso = (ms) => new Date(ms).toISOString(); // "2026-01-01T00:00:00.000Z", like iso_z

const started = Date.now();
const people = [];
for (let i = 1; i <= args.people; i++) {
  const id = `p${String(i).padStart(5, "0")}`;
  people.push({
    id,
    name: `Person ${String(i).padStart(5, "0")}`,
    team: TEAMS[i % TEAMS.length],
    status: "online",
    since: iso(started),
    detail: null,
    sources: {
      synthetic: {
        status: "online",
        detail: null,
        observed_at: iso(started),
        stale: false,
        activity: null,
      },
    },
    activity: null,
    activity_source: "synthetic",
    since_exact: false,
  });
}
// presence-dash sorts people by team, then name
people.sort((a, b) => (a.team < b.team ? -1 : a.team > b.team ? 1 : a.name < b.name ? -1 : 1));
const state = new Map(people.map((p) => [p.id, 0]));
const byId = new Map(people.map((p) => [p.id, p]));
const providers = {
  synthetic: { state: "ok", last_success: iso(started), error: null },
};

let seq = 0;
let flips = 0;
let running = false;
let debt = 0;
let last = 0;
let dirty = new Set();
let lastFlush = 0;
let flushTimer = null;

const http = createServer((req, res) => {
  const reply = (body) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (req.url === "/healthz") return reply({ ok: true });
  if (req.url === "/_bench/stats") return reply({ flips, seq, pid: process.pid });
  if (req.url === "/_bench/go" && req.method === "POST") {
    if (!running) {
      running = true;
      last = performance.now();
    }
    return reply({ ok: true });
  }
  if (req.url.startsWith("/socket.io")) return; // socket.io answers these
  res.writeHead(404);
  res.end();
});
const io = new Server(http, {
  transports: ["websocket", "polling"],
  pingInterval: 10_000,
  pingTimeout: 10_000,
  perMessageDeflate: false,
  maxHttpBufferSize: 64 * 1024,
});

io.on("connection", (socket) => {
  const now = Date.now();
  providers.synthetic.last_success = iso(now);
  socket.emit("snapshot", { seq, server_time: iso(now), people, providers });
});

function flush() {
  flushTimer = null;
  if (!dirty.size) return;
  lastFlush = performance.now();
  seq += 1;
  const changes = [...dirty].map((id) => byId.get(id));
  dirty = new Set();
  io.emit("presence", { seq, server_time: iso(Date.now()), changes });
}

function poll() {
  if (!running) return;
  const mono = performance.now();
  debt += ((mono - last) / 1000) * args.rate;
  last = mono;
  const count = Math.min(Math.floor(debt), people.length);
  debt -= count;
  const now = Date.now();
  for (let k = 0; k < count; k++) {
    const person = people[Math.floor(Math.random() * people.length)];
    const next = (state.get(person.id) + 1) % CYCLE.length;
    state.set(person.id, next);
    person.status = CYCLE[next];
    person.since = iso(now);
    person.since_exact = true;
    person.sources.synthetic.status = CYCLE[next];
    person.sources.synthetic.observed_at = iso(now);
    dirty.add(person.id);
  }
  flips += count;
  providers.synthetic.last_success = iso(now);
  // At most one batch per push interval; a lone change after a quiet spell goes at once.
  if (dirty.size && !flushTimer) {
    const wait = Math.max(0, lastFlush + args.pushIntervalMs - performance.now());
    flushTimer = setTimeout(flush, wait);
  }
}

setInterval(poll, POLL_MS);
http.listen(args.port, "127.0.0.1", () => {
  const size = JSON.stringify({ seq, server_time: iso(Date.now()), people, providers }).length;
  console.log(`reference (node socket.io) pid ${process.pid} on 127.0.0.1:${args.port}, snapshot ${size} bytes`);
});
