// etcd-bench: the etcd side of bench/compare.sh. The same workloads, flags, load model and JSON
// report as `kv bench` (cli/bench_command.cc), against etcd 3.4 through Debian's clientv3.
//
// Load model: --concurrency goroutines, each with one request in flight, spread round-robin over
// --connections clientv3 clients (one gRPC connection each): what etcd's own benchmark tool does.
// Writes, linearizable reads and range scans go to the leader; serializable reads
// ("get-eventual") to every endpoint. Build (offline, Debian packages):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o etcd-bench main.go
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"math"
	"math/bits"
	"math/rand"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/etcd/clientv3"
	"google.golang.org/grpc/grpclog"
)

const listLimit = 100

// ---------------------------------------------------------------- histogram (as base/histogram)

const subBits = 6
const exactLimit = 2 << subBits
const nBuckets = exactLimit + (64-subBits-1)*(1<<subBits)

type histogram struct {
	counts               [nBuckets]uint64
	count, sum, min, max uint64
}

func newHistogram() *histogram { return &histogram{min: math.MaxUint64} }

func bucketOf(v uint64) int {
	if v < exactLimit {
		return int(v)
	}
	shift := bits.Len64(v) - 1 - subBits
	sub := (v >> uint(shift)) - (1 << subBits)
	return int(exactLimit + uint64(shift-1)*64 + sub)
}

func bucketUpper(b int) uint64 {
	if b < exactLimit {
		return uint64(b)
	}
	rest := uint64(b - exactLimit)
	shift := rest/64 + 1
	sub := rest%64 + 64
	return (sub << shift) + (1 << shift) - 1
}

func (h *histogram) record(v uint64) {
	h.counts[bucketOf(v)]++
	h.count++
	h.sum += v
	if v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
}

func (h *histogram) merge(o *histogram) {
	for i := range h.counts {
		h.counts[i] += o.counts[i]
	}
	h.count += o.count
	h.sum += o.sum
	if o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
}

func (h *histogram) percentile(q float64) uint64 {
	if h.count == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.count)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := bucketUpper(i)
			if v < h.min {
				v = h.min
			}
			if v > h.max {
				v = h.max
			}
			return v
		}
	}
	return h.max
}

func (h *histogram) mean() float64 {
	if h.count == 0 {
		return 0
	}
	return float64(h.sum) / float64(h.count)
}

// ---------------------------------------------------------------- options

type options struct {
	workload                       string
	endpoints                      []string
	concurrency, connections, keys int
	valueSize                      int
	duration, warmup               float64
	count, rate                    int64
	seed                           int64
	json, quiet, noPreload         bool
	label                          string
}

func parseFlags() options {
	var o options
	var endpoints string
	fs := flag.NewFlagSet("etcd-bench", flag.ExitOnError)
	fs.StringVar(&endpoints, "endpoints", "127.0.0.1:2379", "client URLs, comma-separated")
	fs.IntVar(&o.concurrency, "concurrency", 16, "requests in flight")
	fs.IntVar(&o.connections, "connections", 4, "clients (gRPC connections)")
	fs.IntVar(&o.keys, "keys", 10000, "key space size")
	fs.IntVar(&o.valueSize, "value-size", 100, "value size in bytes")
	fs.Float64Var(&o.duration, "duration", 10, "measured seconds")
	fs.Float64Var(&o.warmup, "warmup", 1, "seconds before measuring")
	fs.Int64Var(&o.count, "count", 0, "run exactly this many operations instead")
	fs.Int64Var(&o.rate, "rate", 0, "target ops/s (0: unlimited)")
	fs.Int64Var(&o.seed, "seed", 1, "random seed")
	fs.BoolVar(&o.json, "json", false, "print one JSON object")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress line")
	fs.BoolVar(&o.noPreload, "no-preload", false, "read workloads: do not write the keys first")
	fs.StringVar(&o.label, "label", "etcd", "system name in the report")
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: etcd-bench WORKLOAD|leader|probe [flags]")
		os.Exit(2)
	}
	o.workload = os.Args[1]
	fs.Parse(os.Args[2:])
	o.endpoints = strings.Split(endpoints, ",")
	if o.connections > o.concurrency {
		o.connections = o.concurrency
	}
	return o
}

func newClient(endpoints []string) *clientv3.Client {
	c, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 2 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd-bench:", err)
		os.Exit(1)
	}
	return c
}

func findLeader(endpoints []string) (string, uint64, error) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, ep := range endpoints {
			c := newClient([]string{ep})
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			st, err := c.Status(ctx, ep)
			cancel()
			c.Close()
			if err == nil && st.Header.MemberId == st.Leader {
				return ep, st.RaftTerm, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", 0, fmt.Errorf("no leader among %v", endpoints)
}

// ---------------------------------------------------------------- the run

type secondRow struct {
	T      float64 `json:"t_s"`
	Ops    uint64  `json:"ops"`
	Errors uint64  `json:"errors"`
	P50    uint64  `json:"p50_us"`
	P99    uint64  `json:"p99_us"`
	Max    uint64  `json:"max_us"`
}

type runner struct {
	o          options
	clients    []*clientv3.Client
	sequential bool
	keys       []string
	value      string
	casTag     string

	t0, from, until time.Time
	issued          int64 // atomic
	mu              sync.Mutex
	total, second   *histogram
	ops, errors     uint64
	failedChecks    uint64
	secErrors       uint64
	closed          bool
	windowS         float64
	usageStart      syscall.Rusage
	cpuUser, cpuSys float64
	seconds         []secondRow
	firstError      string
}

func keyOf(i int) string { return fmt.Sprintf("bench/k%08d", i) }

func (r *runner) op(rng *rand.Rand, slot int, n int64, casRev []int64, casNext *int) (bool, bool, error) {
	w := r.o.workload
	if w == "mixed" {
		d := rng.Intn(10)
		w = map[bool]string{true: "get", false: "set"}[d < 6]
		if d == 9 {
			w = "list"
		}
	}
	var key string
	if r.sequential {
		key = r.keys[n%int64(len(r.keys))]
	} else {
		key = r.keys[rng.Intn(len(r.keys))]
	}
	c := r.clients[slot%len(r.clients)]
	ctx := context.Background()
	switch w {
	case "set":
		_, err := c.Put(ctx, key, r.value)
		return true, false, err
	case "get":
		_, err := c.Get(ctx, key)
		return true, false, err
	case "get-eventual":
		_, err := c.Get(ctx, key, clientv3.WithSerializable())
		return true, false, err
	case "list":
		span := len(r.keys) - listLimit
		_, err := c.Get(ctx, r.keys[rng.Intn(span)], clientv3.WithRange("bench0"),
			clientv3.WithLimit(listLimit))
		return true, false, err
	case "cas":
		// Each slot owns its cas keys (as in kv bench): a check fails only if a write was lost.
		j := *casNext % len(casRev)
		*casNext++
		k := fmt.Sprintf("bench-cas/%s/s%05dk%08d", r.casTag, slot, j)
		resp, err := c.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(k), "=", casRev[j])).
			Then(clientv3.OpPut(k, r.value)).Commit()
		if err != nil {
			return true, false, err
		}
		if resp.Succeeded {
			casRev[j] = resp.Header.Revision
		}
		return true, !resp.Succeeded, nil
	}
	return false, false, fmt.Errorf("workload %q is not supported against etcd", w)
}

func (r *runner) record(now time.Time, us uint64, err error, failed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	measured := !r.closed && !now.Before(r.from) && (r.o.count > 0 || now.Before(r.until))
	if err != nil {
		if r.firstError == "" {
			r.firstError = err.Error()
		}
		if measured {
			r.errors++
			r.secErrors++
		}
		return
	}
	if measured {
		r.total.record(us)
		r.second.record(us)
		r.ops++
		if failed {
			r.failedChecks++
		}
	}
}

func cpuSeconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

func (r *runner) closeWindow(now time.Time) {
	if r.closed {
		return
	}
	r.closed = true
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	r.windowS = now.Sub(r.from).Seconds()
	r.cpuUser = cpuSeconds(u.Utime) - cpuSeconds(r.usageStart.Utime)
	r.cpuSys = cpuSeconds(u.Stime) - cpuSeconds(r.usageStart.Stime)
}

func (r *runner) slot(slot int, wg *sync.WaitGroup) {
	defer wg.Done()
	rng := rand.New(rand.NewSource(r.o.seed*7919 + int64(slot)))
	casRev := make([]int64, max(1, r.o.keys/r.o.concurrency))
	casNext := 0
	for {
		n := atomic.AddInt64(&r.issued, 1) - 1
		start := time.Now()
		if r.o.count > 0 && n >= r.o.count || r.o.count == 0 && !start.Before(r.until) {
			return
		}
		if r.o.rate > 0 {
			due := r.t0.Add(time.Duration(float64(n) / float64(r.o.rate) * 1e9))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
			start = due
		}
		supported, failed, err := r.op(rng, slot, n, casRev, &casNext)
		if !supported {
			fmt.Fprintln(os.Stderr, "etcd-bench:", err)
			os.Exit(2)
		}
		now := time.Now()
		r.record(now, uint64(now.Sub(start).Microseconds()), err, failed)
		if r.o.count > 0 && n+1 == r.o.count {
			r.mu.Lock()
			r.closeWindow(now)
			r.mu.Unlock()
		}
	}
}

func (r *runner) ticker(stop chan struct{}) {
	next := r.t0.Add(time.Second)
	for {
		select {
		case <-stop:
			return
		case <-time.After(time.Until(next)):
		}
		now := time.Now()
		r.mu.Lock()
		t := now.Sub(r.t0).Seconds()
		if !r.o.quiet && !r.sequential {
			fmt.Fprintf(os.Stderr, "[%6.1fs] %8d ops/s  p50 %6d us  p99 %6d us  errors %d\n", t,
				r.second.count, r.second.percentile(0.5), r.second.percentile(0.99), r.secErrors)
		}
		if now.After(r.from) && !r.closed {
			r.seconds = append(r.seconds, secondRow{t, r.second.count, r.secErrors,
				r.second.percentile(0.5), r.second.percentile(0.99), r.second.max})
		}
		r.second = newHistogram()
		r.secErrors = 0
		r.mu.Unlock()
		next = next.Add(time.Second)
	}
}

func (r *runner) run() {
	r.total, r.second = newHistogram(), newHistogram()
	r.t0 = time.Now()
	r.from = r.t0
	if r.o.count == 0 {
		r.from = r.t0.Add(time.Duration(r.o.warmup * 1e9))
	}
	r.until = r.from.Add(time.Duration(r.o.duration * 1e9))
	stop := make(chan struct{})
	go r.ticker(stop)
	if r.o.count == 0 {
		go func() {
			time.Sleep(time.Until(r.from))
			r.mu.Lock()
			syscall.Getrusage(syscall.RUSAGE_SELF, &r.usageStart)
			r.mu.Unlock()
			time.Sleep(time.Until(r.until))
			r.mu.Lock()
			r.closeWindow(time.Now())
			r.mu.Unlock()
		}()
	} else {
		syscall.Getrusage(syscall.RUSAGE_SELF, &r.usageStart)
	}
	var wg sync.WaitGroup
	for i := 0; i < r.o.concurrency; i++ {
		wg.Add(1)
		go r.slot(i, &wg)
	}
	wg.Wait()
	close(stop)
	r.mu.Lock()
	r.closeWindow(time.Now())
	r.mu.Unlock()
}

func max(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func probe(o options) {
	c := newClient(o.endpoints)
	end := time.Now().Add(time.Duration(o.duration * 1e9))
	for time.Now().Before(end) {
		start := time.Now().UnixMicro()
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		_, err := c.Put(ctx, "bench-probe", "x")
		cancel()
		us := time.Now().UnixMicro()
		if err == nil {
			fmt.Printf("ok %d %d\n", start, us)
		} else {
			fmt.Printf("err %d %d %v\n", start, us, err)
			time.Sleep(2 * time.Millisecond)
		}
	}
}

func main() {
	grpclog.SetLoggerV2(grpclog.NewLoggerV2(ioutil.Discard, ioutil.Discard, ioutil.Discard))
	o := parseFlags()
	if o.workload == "probe" {
		probe(o)
		return
	}
	leader, term, err := findLeader(o.endpoints)
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd-bench:", err)
		os.Exit(1)
	}
	if o.workload == "leader" {
		fmt.Println(leader, term)
		return
	}
	targets := []string{leader}
	if o.workload == "get-eventual" {
		targets = o.endpoints
	}
	r := &runner{o: o}
	for i := 0; i < o.connections; i++ {
		r.clients = append(r.clients, newClient(targets))
	}
	for i := 0; i < o.keys; i++ {
		r.keys = append(r.keys, keyOf(i))
	}
	rng := rand.New(rand.NewSource(o.seed))
	buf := make([]byte, o.valueSize)
	rng.Read(buf)
	r.value = string(buf)
	r.casTag = fmt.Sprintf("%016x", rand.New(rand.NewSource(time.Now().UnixNano())).Uint64())
	reads := o.workload == "get" || o.workload == "get-eventual" || o.workload == "list" ||
		o.workload == "mixed"
	if reads && !o.noPreload {
		p := *r
		p.o.workload, p.o.count, p.o.rate, p.sequential = "set", int64(o.keys), 0, true
		if p.o.concurrency < 64 { // a fast preload at any concurrency
			p.o.concurrency = 64
		}
		p.run()
		if p.errors > 0 {
			fmt.Fprintln(os.Stderr, "etcd-bench: preload failed:", p.firstError)
			os.Exit(1)
		}
	}
	r.run()
	report(o, leader, r)
}

func report(o options, leader string, r *runner) {
	h := r.total
	tput, cpu := 0.0, 0.0
	if r.windowS > 0 {
		tput = float64(r.ops) / r.windowS
		cpu = 100 * (r.cpuUser + r.cpuSys) / r.windowS
	}
	if o.json {
		out := map[string]interface{}{
			"system": o.label, "workload": o.workload, "concurrency": o.concurrency,
			"connections": o.connections, "keys": o.keys, "value_size": o.valueSize,
			"leader": leader, "ops": r.ops, "errors": r.errors, "failed_checks": r.failedChecks,
			"window_s": r.windowS, "throughput_ops_s": tput, "client_cpu_pct": cpu,
			"first_error": r.firstError, "per_second": r.seconds,
			"latency_us": map[string]interface{}{"p50": h.percentile(0.5), "p90": h.percentile(0.9),
				"p99": h.percentile(0.99), "p999": h.percentile(0.999), "max": h.max,
				"mean": h.mean()},
		}
		b, _ := json.Marshal(out)
		fmt.Println(string(b))
	} else {
		fmt.Printf("%s %s: %d in flight over %d connections to %s\n", o.label, o.workload,
			o.concurrency, o.connections, leader)
		fmt.Printf("  ops         %d ok, %d errors, %d failed checks in %.2f s\n", r.ops, r.errors,
			r.failedChecks, r.windowS)
		fmt.Printf("  throughput  %.0f ops/s\n", tput)
		fmt.Printf("  latency us  p50 %d  p90 %d  p99 %d  p99.9 %d  max %d  mean %.0f\n",
			h.percentile(0.5), h.percentile(0.9), h.percentile(0.99), h.percentile(0.999), h.max,
			h.mean())
		fmt.Printf("  client cpu  %.0f%% of one core\n", cpu)
		if r.firstError != "" {
			fmt.Println("  first error", r.firstError)
		}
	}
	if r.ops == 0 {
		os.Exit(1)
	}
}
