// Load generator for benchmarks/fanout.py: C Socket.IO clients (the official JS client).
//
//   node loadgen.mjs --url http://127.0.0.1:PORT[,http://127.0.0.1:PORT2...] --clients 1000 \
//        --duration 20 \
//        [--warmup 2] [--group 50] [--go-url http://127.0.0.1:PORT/_bench/go] \
//        [--storm 1] [--storm-timeout 180]
//
// Opens the clients in groups (websocket transport, each waits for its `snapshot`), POSTs
// --go-url (the server then starts changing presence), waits --warmup seconds, then measures
// for --duration seconds. For every person in every `presence` batch a client receives:
// latency = Date.now() - Date.parse(change.since), `since` being the time the board applied
// the change. Progress lines go to stdout as "PHASE <name>"; the last line is
// "RESULT <json>".
//
// --storm 1 adds a reconnect storm after the measured window, with changes still flowing:
// every client disconnects, and then all of them connect at once (reconnection on, with
// socket.io-client's default backoff, as browsers do after a server restart). It reports how
// long until every client has had a snapshot, and the ping-timeout drops and reconnects meanwhile.
//
// --url may list several servers (web nodes of one cluster), comma-separated: client i
// connects to the (i mod n)-th. Whether every client got the same stream is checked on the
// seqs of the measured window: between the latest first seq and the earliest last seq of the
// clients that stayed connected, each of them must have received every seq (seq_missing
// counts the misses) with the same batch under it (seq_mismatches: a different set of changes
// under one seq, on any client). Clients that dropped are counted in disconnects_during.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { io } from "socket.io-client";

function parseArgs(argv) {
  const args = {
    clients: 100,
    duration: 10,
    warmup: 2,
    group: 50,
    url: "",
    goUrl: "",
    storm: 0,
    stormTimeout: 180,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "").replace(/-(.)/g, (_, c) => c.toUpperCase());
    const value = argv[i + 1];
    args[key] = ["url", "goUrl"].includes(key) ? value : Number(value);
  }
  if (!args.url) throw new Error("--url is required");
  args.urls = args.url.split(",").filter((u) => u);
  return args;
}

const args = parseArgs(process.argv.slice(2));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const phase = (name, extra = "") => console.log(`PHASE ${name}${extra ? " " + extra : ""}`);

// Latency histogram with 1 ms bins (the `since` stamps have millisecond precision).
const MAX_MS = 120_000;
const hist = new Float64Array(MAX_MS + 1);
let measuring = false;
let count = 0;
let sum = 0;
let max = 0;
let negative = 0; // clock skew would show here (same host: should stay 0)
let batches = 0;
let gaps = 0;
let disconnects = 0;
let connectErrors = 0;
let snapshots = 0;
const gapsByUrl = args.urls.map(() => 0);

// seq -> the signature of the first batch any client received under it
const seqSeen = new Map();
let mismatches = 0;
function batchSignature(batch) {
  const changes = batch.changes;
  if (changes.length === 0) return "0";
  const first = changes[0];
  const last = changes[changes.length - 1];
  return `${changes.length}:${first.id}:${first.status}:${last.id}:${last.status}`;
}

// Every client receives the same batches: parse each `since` string once.
const sinceCache = new Map();
function parseSince(text) {
  let value = sinceCache.get(text);
  if (value === undefined) {
    if (sinceCache.size > 50_000) sinceCache.clear();
    value = Date.parse(text);
    sinceCache.set(text, value);
  }
  return value;
}

function onPresence(state, batch) {
  const now = Date.now();
  if (state.seq !== null && batch.seq !== state.seq + 1) {
    if (measuring) {
      gaps += 1;
      gapsByUrl[state.node] += 1;
    }
  }
  state.seq = batch.seq;
  if (!measuring) return;
  batches += 1;
  if (state.firstSeq === null) state.firstSeq = batch.seq;
  state.lastSeq = batch.seq;
  state.seqs.push(batch.seq);
  const sig = batchSignature(batch);
  const seen = seqSeen.get(batch.seq);
  if (seen === undefined) seqSeen.set(batch.seq, sig);
  else if (seen !== sig) mismatches += 1;
  for (const change of batch.changes) {
    let latency = now - parseSince(change.since);
    if (latency < 0) {
      negative += 1;
      latency = 0;
    }
    hist[Math.min(latency, MAX_MS)] += 1;
    count += 1;
    sum += latency;
    if (latency > max) max = latency;
  }
}

const states = [];

function connectOne(index) {
  return new Promise((resolve) => {
    const node = index % args.urls.length;
    const state = { seq: null, node, firstSeq: null, lastSeq: null, seqs: [], dropped: false };
    const socket = io(args.urls[node], {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      timeout: 60_000,
    });
    let settled = false;
    const done = (ok) => {
      if (!settled) {
        settled = true;
        if (ok) states.push(state);
        resolve(ok ? socket : null);
      }
    };
    socket.on("snapshot", (snap) => {
      snapshots += 1;
      state.seq = snap.seq;
      done(true);
    });
    socket.on("presence", (batch) => onPresence(state, batch));
    socket.on("connect_error", (err) => {
      connectErrors += 1;
      if (connectErrors <= 3) console.error(`client ${index}: connect_error ${err.message}`);
      done(false);
    });
    socket.on("disconnect", (reason) => {
      disconnects += 1;
      state.dropped = true;
      if (disconnects <= 3) console.error(`client ${index}: disconnect ${reason}`);
      done(false);
    });
  });
}

// The storm: all clients at once, reconnecting like browsers; resolves when each of them has
// had a snapshot (or at the timeout) with what happened meanwhile.
async function storm(count, timeoutS) {
  const stats = { snapshots: 0, pingTimeouts: 0, disconnects: 0, reconnects: 0, errors: 0 };
  const sockets = [];
  const started = Date.now();
  let finish;
  const finished = new Promise((resolve) => {
    finish = resolve;
  });
  const timer = setTimeout(() => finish(false), timeoutS * 1000);
  for (let i = 0; i < count; i++) {
    const state = { seq: null, got: false };
    const url = args.urls[i % args.urls.length];
    const socket = io(url, { transports: ["websocket"], forceNew: true, timeout: 60_000 });
    socket.on("snapshot", (snap) => {
      state.seq = snap.seq;
      if (!state.got) {
        state.got = true;
        stats.snapshots += 1;
        if (stats.snapshots === count) finish(true);
      }
    });
    socket.on("presence", (batch) => {
      state.seq = batch.seq;
    });
    socket.on("connect_error", () => {
      stats.errors += 1;
    });
    socket.on("disconnect", (reason) => {
      stats.disconnects += 1;
      if (reason === "ping timeout") stats.pingTimeouts += 1;
    });
    socket.io.on("reconnect", () => {
      stats.reconnects += 1;
    });
    sockets.push(socket);
  }
  const complete = await finished;
  clearTimeout(timer);
  const seconds = (Date.now() - started) / 1000;
  for (const s of sockets) s.disconnect();
  return {
    storm_clients: count,
    storm_seconds: complete ? seconds : null,
    storm_snapshots: stats.snapshots,
    storm_ping_timeouts: stats.pingTimeouts,
    storm_disconnects: stats.disconnects,
    storm_reconnects: stats.reconnects,
    storm_connect_errors: stats.errors,
  };
}

function percentile(p) {
  if (count === 0) return null;
  const target = Math.ceil((p / 100) * count);
  let seen = 0;
  for (let ms = 0; ms <= MAX_MS; ms++) {
    seen += hist[ms];
    if (seen >= target) return ms;
  }
  return MAX_MS;
}

// Every client that stayed connected must have had every seq of the window they all span,
// with one batch under each seq.
function streamCheck() {
  const kept = states.filter((s) => !s.dropped);
  let from = Infinity;
  let to = -Infinity;
  let first = true;
  for (const state of kept) {
    if (state.firstSeq === null) continue;
    from = first ? state.firstSeq : Math.max(from, state.firstSeq);
    to = first ? state.lastSeq : Math.min(to, state.lastSeq);
    first = false;
  }
  const span = Math.max(0, to - from + 1);
  let missing = 0;
  for (const state of kept) {
    // A client that received nothing in the window missed everything the others got.
    const had = state.seqs.filter((seq) => seq >= from && seq <= to).length;
    missing += span - had;
  }
  return {
    seq_span: span,
    seq_missing: missing,
    seq_mismatches: mismatches,
    silent_clients: kept.filter((s) => s.firstSeq === null).length,
  };
}

async function main() {
  const sockets = [];
  phase("ramp_start");
  const rampStart = Date.now();
  for (let i = 0; i < args.clients; i += args.group) {
    const size = Math.min(args.group, args.clients - i);
    const group = await Promise.all(Array.from({ length: size }, (_, k) => connectOne(i + k)));
    for (const s of group) if (s) sockets.push(s);
  }
  const rampSeconds = (Date.now() - rampStart) / 1000;
  phase("connected", `${sockets.length} ${rampSeconds.toFixed(1)}`);
  if (args.goUrl) {
    const response = await fetch(args.goUrl, { method: "POST" });
    if (!response.ok) throw new Error(`go: HTTP ${response.status}`);
  }
  await sleep(args.warmup * 1000);
  const disconnectsBefore = disconnects;
  // How late this process's event loop runs: the part of the latency that is ours.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  measuring = true;
  const t0 = performance.now();
  phase("measure_start");
  await sleep(args.duration * 1000);
  measuring = false;
  loopDelay.disable();
  const seconds = (performance.now() - t0) / 1000;
  phase("measure_end");
  const result = {
    clients_requested: args.clients,
    clients_connected: sockets.length,
    ramp_seconds: rampSeconds,
    seconds,
    count,
    p50_ms: percentile(50),
    p90_ms: percentile(90),
    p99_ms: percentile(99),
    max_ms: count ? max : null,
    mean_ms: count ? sum / count : null,
    deliveries_per_s: count / seconds,
    batches_per_s_per_client: sockets.length ? batches / seconds / sockets.length : 0,
    seq_gaps: gaps,
    ...streamCheck(),
    urls: args.urls,
    clients_by_url: args.urls.map((_, n) => states.filter((s) => s.node === n).length),
    seq_gaps_by_url: gapsByUrl,
    loadgen_loop_delay_p50_ms: loopDelay.percentile(50) / 1e6,
    loadgen_loop_delay_p99_ms: loopDelay.percentile(99) / 1e6,
    negative_latencies: negative,
    disconnects_during: disconnects - disconnectsBefore,
    connect_errors: connectErrors,
  };
  for (const s of sockets) s.disconnect();
  if (args.storm) {
    await sleep(2000); // the server sees everyone go first, as after a restart
    phase("storm_start");
    Object.assign(result, await storm(args.clients, args.stormTimeout));
    phase("storm_end");
  }
  console.log(`RESULT ${JSON.stringify(result)}`);
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
