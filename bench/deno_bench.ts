// deno_bench.ts: the Deno KV side of bench/compare.sh. The same workloads, flags, load model and
// JSON report as `kv bench` (cli/bench_command.cc), against Deno KV's local SQLite backend
// (Deno.openKv(path)): --concurrency async loops, each with one operation in flight.
//   deno run --unstable-kv -A bench/deno_bench.ts WORKLOAD --path DB [--concurrency N] ...
// Deno KV runs in this process, so "client CPU" here includes the database's own work.
import process from "node:process";

const LIST_LIMIT = 100;

// ---- histogram: as base/histogram.h (values < 128 exact, 64 buckets per power of two)
class Histogram {
  counts = new Float64Array(128 + 57 * 64);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;
  static bucketOf(v: number): number {
    if (v < 128) return v;
    const shift = Math.floor(Math.log2(v)) - 6;
    const sub = Math.floor(v / 2 ** shift) - 64;
    return 128 + (shift - 1) * 64 + sub;
  }
  static upper(b: number): number {
    if (b < 128) return b;
    const shift = Math.floor((b - 128) / 64) + 1;
    const sub = ((b - 128) % 64) + 64;
    return sub * 2 ** shift + 2 ** shift - 1;
  }
  record(v: number) {
    v = Math.max(0, Math.round(v));
    this.counts[Histogram.bucketOf(v)]++;
    this.count++;
    this.sum += v;
    this.min = Math.min(this.min, v);
    this.max = Math.max(this.max, v);
  }
  percentile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, Histogram.upper(i)));
    }
    return this.max;
  }
}

// ---- flags
const args = Deno.args;
const workload = args[0];
const opt: Record<string, string> = {
  path: "", concurrency: "16", keys: "10000", "value-size": "100", duration: "10",
  warmup: "1", count: "0", seed: "1", label: "deno-kv",
};
const flags = new Set<string>();
for (let i = 1; i < args.length; i++) {
  const a = args[i].replace(/^--/, "");
  if (a === "json" || a === "quiet" || a === "no-preload") flags.add(a);
  else if (a in opt) opt[a] = args[++i];
  else throw new Error(`unknown flag --${a}`);
}
const concurrency = Number(opt.concurrency), nkeys = Number(opt.keys);
const valueSize = Number(opt["value-size"]);
if (!opt.path) throw new Error("--path is required");

const kv = await Deno.openKv(opt.path);
const keys: Deno.KvKey[] = [];
for (let i = 0; i < nkeys; i++) keys.push(["bench", "k" + String(i).padStart(8, "0")]);
const value = new Uint8Array(valueSize);
for (let i = 0; i < valueSize; i++) value[i] = (i * 131 + 7) & 0xff;
const payload = "x".repeat(valueSize);
const casTag = crypto.randomUUID();

let rngState = Number(opt.seed) >>> 0 || 1;
function rand(n: number): number { // xorshift32: fast, seeded
  rngState ^= rngState << 13; rngState >>>= 0;
  rngState ^= rngState >>> 17;
  rngState ^= rngState << 5; rngState >>>= 0;
  return rngState % n;
}

type Run = { count: number; duration: number; warmup: number; sequential: boolean; w: string };

async function run(r: Run) {
  const total = new Histogram();
  let second = new Histogram();
  let ops = 0, errors = 0, failed = 0, secErrors = 0, issued = 0, closed = false;
  let firstError = "";
  const seconds: unknown[] = [];
  const t0 = performance.now();
  const from = t0 + r.warmup * 1000, until = from + r.duration * 1000;
  let cpuStart = process.cpuUsage(), windowS = 0, cpuUs = 0;
  const close = (now: number) => {
    if (closed) return;
    closed = true;
    windowS = (now - from) / 1000;
    const c = process.cpuUsage(cpuStart);
    cpuUs = c.user + c.system;
  };
  const warm = setTimeout(() => { cpuStart = process.cpuUsage(); }, Math.max(0, from - t0));
  const endTimer = r.count === 0 ? setTimeout(() => close(performance.now()), until - t0) : 0;
  const ticker = setInterval(() => {
    const now = performance.now(), t = (now - t0) / 1000;
    if (!flags.has("quiet") && !r.sequential)
      console.error(`[${t.toFixed(1).padStart(6)}s] ${String(second.count).padStart(8)} ops/s  p50 ${second.percentile(0.5)} us  p99 ${second.percentile(0.99)} us  errors ${secErrors}`);
    if (now > from && !closed)
      seconds.push({ t_s: t, ops: second.count, errors: secErrors, p50_us: second.percentile(0.5), p99_us: second.percentile(0.99), max_us: second.max });
    second = new Histogram();
    secErrors = 0;
  }, 1000);

  async function one(slot: number, n: number, casVs: (string | null)[], casNext: { i: number }): Promise<boolean> {
    let w = r.w;
    if (w === "mixed") { const d = rand(10); w = d < 6 ? "get" : d < 9 ? "set" : "list"; }
    const key = r.sequential ? keys[n % nkeys] : keys[rand(nkeys)];
    switch (w) {
      case "set": await kv.set(key, value); return true;
      case "get": await kv.get(key); return true;
      case "get-eventual": await kv.get(key, { consistency: "eventual" }); return true;
      case "list": {
        const start = keys[rand(nkeys - LIST_LIMIT)];
        let seen = 0;
        for await (const _ of kv.list({ prefix: ["bench"], start }, { limit: LIST_LIMIT, batchSize: LIST_LIMIT })) seen++;
        return seen > 0;
      }
      case "enqueue": await kv.enqueue(payload); return true;
      case "cas": {
        const j = casNext.i++ % casVs.length;
        const k = ["bench-cas", casTag, `s${slot}k${j}`];
        const res = await kv.atomic().check({ key: k, versionstamp: casVs[j] }).set(k, value).commit();
        if (res.ok) casVs[j] = res.versionstamp;
        return res.ok;
      }
    }
    throw new Error(`unknown workload ${w}`);
  }

  async function loop(slot: number) {
    const casVs: (string | null)[] = new Array(Math.max(1, Math.floor(nkeys / concurrency))).fill(null);
    const casNext = { i: 0 };
    for (;;) {
      const n = issued++;
      const start = performance.now();
      if (r.count > 0 ? n >= r.count : start >= until) return;
      let ok = true, err = false;
      try { ok = await one(slot, n, casVs, casNext); } catch (e) { err = true; firstError ||= String(e); }
      const now = performance.now();
      const measured = !closed && now >= from && (r.count > 0 || now < until);
      if (err) { if (measured) { errors++; secErrors++; } }
      else if (measured) {
        const us = (now - start) * 1000;
        total.record(us); second.record(us); ops++;
        if (!ok) failed++;
      }
      if (r.count > 0 && completedAll(n)) close(now);
    }
  }
  let completed = 0;
  const completedAll = (_n: number) => ++completed >= r.count;
  await Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i)));
  close(performance.now());
  clearInterval(ticker); clearTimeout(warm); if (endTimer) clearTimeout(endTimer);
  return { total, ops, errors, failed, windowS, cpuUs, seconds, firstError };
}

const reads = ["get", "get-eventual", "list", "mixed"].includes(workload);
if (reads && !flags.has("no-preload")) {
  const p = await run({ count: nkeys, duration: 0, warmup: 0, sequential: true, w: "set" });
  if (p.errors > 0) throw new Error("preload failed: " + p.firstError);
}
const res = await run({ count: Number(opt.count), duration: Number(opt.duration), warmup: Number(opt.count) > 0 ? 0 : Number(opt.warmup), sequential: false, w: workload });
const h = res.total;
const out = {
  system: opt.label, workload, concurrency, connections: 1, keys: nkeys, value_size: valueSize,
  leader: opt.path, ops: res.ops, errors: res.errors, failed_checks: res.failed,
  window_s: res.windowS, throughput_ops_s: res.windowS > 0 ? res.ops / res.windowS : 0,
  latency_us: { p50: h.percentile(0.5), p90: h.percentile(0.9), p99: h.percentile(0.99), p999: h.percentile(0.999), max: h.max, mean: h.count ? h.sum / h.count : 0 },
  client_cpu_pct: res.windowS > 0 ? res.cpuUs / 1e4 / res.windowS : 0,
  first_error: res.firstError, per_second: res.seconds,
};
if (flags.has("json")) console.log(JSON.stringify(out));
else console.log(`${out.system} ${workload}: ${concurrency} in flight\n  throughput ${out.throughput_ops_s.toFixed(0)} ops/s\n  latency us p50 ${out.latency_us.p50} p99 ${out.latency_us.p99} max ${out.latency_us.max}\n  errors ${res.errors} failed checks ${res.failed}`);
kv.close();
Deno.exit(res.ops > 0 ? 0 : 1);
