//go:build chaos

package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"

	"github.com/paddock-f1/paddock/pkg/standin"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/streams"
)

// config is what the environment sets (docs/chaos.md lists it).
type config struct {
	trials     int
	only       map[int]bool // CHAOS_TRIAL: run these trials alone (1-based), empty for all
	seed       uint64
	scope      []string
	pgOutage   time.Duration
	pgPort     int
	pgVersion  string
	runBound   time.Duration // the CLI must return within it
	settle     time.Duration // the run's bookkeeping must settle within it after the CLI returned
	quotaCalls int
	quotaWin   time.Duration
	dir        string
	natsBin    string
	supervise  bool // restart a service that ends on its own, as the deployments do
}

func readConfig(t *testing.T) config {
	t.Helper()
	c := config{
		trials: 20, seed: uint64(time.Now().UnixNano() % 1e6), scope: strings.Fields("--year 2020 --round 8"),
		pgOutage: 60 * time.Second, pgPort: 5499, pgVersion: "15",
		runBound: 5 * time.Minute, settle: 2 * time.Minute,
		quotaCalls: 6, quotaWin: 3 * time.Second,
	}
	num := func(name string, dst *int) {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				t.Fatalf("%s=%q: want a whole number", name, v)
			}
			*dst = n
		}
	}
	dur := func(name string, dst *time.Duration) {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				t.Fatalf("%s=%q: want a duration such as 60s", name, v)
			}
			*dst = d
		}
	}
	num("CHAOS_TRIALS", &c.trials)
	if v := os.Getenv("CHAOS_TRIAL"); v != "" {
		c.only = map[int]bool{}
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				t.Fatalf("CHAOS_TRIAL=%q: want trial numbers from 1, comma separated", v)
			}
			c.only[n] = true
		}
	}
	if v := os.Getenv("CHAOS_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q: want a whole number", v)
		}
		c.seed = s
	}
	if v := os.Getenv("CHAOS_SCOPE"); v != "" {
		c.scope = strings.Fields(v)
	}
	dur("CHAOS_PG_OUTAGE", &c.pgOutage)
	num("CHAOS_PG_PORT", &c.pgPort)
	if v := os.Getenv("CHAOS_PG_VERSION"); v != "" {
		c.pgVersion = v
	}
	dur("CHAOS_RUN_BOUND", &c.runBound)
	dur("CHAOS_SETTLE", &c.settle)
	num("CHAOS_QUOTA_CALLS", &c.quotaCalls)
	dur("CHAOS_QUOTA_WINDOW", &c.quotaWin)
	c.natsBin = os.Getenv("CHAOS_NATS_SERVER")
	c.supervise = os.Getenv("CHAOS_SUPERVISE") != "0"
	c.dir = os.Getenv("CHAOS_DIR")
	if c.dir == "" {
		c.dir = filepath.Join(os.TempDir(), fmt.Sprintf("paddock-chaos-%d", c.seed))
	}
	for n := range c.only {
		if n > c.trials {
			t.Fatalf("CHAOS_TRIAL names trial %d, beyond CHAOS_TRIALS=%d", n, c.trials)
		}
	}
	return c
}

// fault is one thing done to the deployment during a trial.
type fault struct {
	kind   string        // kill, plan-kill, nats, pg
	victim string        // the service killed (kill, plan-kill)
	at     time.Duration // after the import started (plan-kill: after the plan request)
	down   time.Duration // how long it stays down
}

func (f fault) String() string {
	switch f.kind {
	case "kill":
		return fmt.Sprintf("kill -9 %s @%s, back %s later", f.victim, f.at.Round(100*time.Millisecond), f.down.Round(100*time.Millisecond))
	case "plan-kill":
		return fmt.Sprintf("kill -9 planner %s after the plan request, back %s later", f.at.Round(10*time.Millisecond), f.down.Round(100*time.Millisecond))
	case "nats":
		return fmt.Sprintf("kill -9 nats-server @%s, back %s later", f.at.Round(100*time.Millisecond), f.down.Round(100*time.Millisecond))
	default:
		return fmt.Sprintf("stop postgres @%s for %s", f.at.Round(100*time.Millisecond), f.down)
	}
}

// plan draws trial n's faults (1-based) from the seed alone, so a trial
// can be run again by itself. The primary faults rotate so that every
// five trials have two service kills, one planner kill while it plans, a
// NATS restart and a PostgreSQL outage; a second service kill is added
// to some trials.
func plan(cfg config, n int, services []string, span time.Duration) []fault {
	rng := rand.New(rand.NewPCG(cfg.seed, uint64(n)))
	moment := func() time.Duration { return time.Duration(rng.Int64N(int64(span))) }
	kill := func() fault {
		return fault{kind: "kill", victim: services[rng.IntN(len(services))], at: moment(),
			down: time.Duration(rng.Int64N(int64(5 * time.Second)))}
	}
	var fs []fault
	switch []string{"kill", "plan-kill", "nats", "kill", "pg"}[(n-1)%5] {
	case "kill":
		fs = append(fs, kill())
	case "plan-kill":
		// Planning a weekend takes about 100-200 ms here (its schedule
		// loaded first): the kill comes within 100 ms of the request.
		fs = append(fs, fault{kind: "plan-kill", victim: "planner", at: time.Duration(rng.Int64N(int64(100 * time.Millisecond))),
			down: 500*time.Millisecond + time.Duration(rng.Int64N(int64(4*time.Second)))})
	case "nats":
		fs = append(fs, fault{kind: "nats", at: moment(), down: 500*time.Millisecond + time.Duration(rng.Int64N(int64(4*time.Second)))})
	case "pg":
		fs = append(fs, fault{kind: "pg", at: moment(), down: cfg.pgOutage})
	}
	if rng.IntN(3) == 0 {
		fs = append(fs, kill())
	}
	return fs
}

// outcome is one trial's line of the table.
type outcome struct {
	n        int
	faults   []fault
	exit     string // the CLI's exit status, or "timeout"
	headline string
	took     time.Duration
	runs     RunState
	tables   string
	quota    string
	slack    string
	calls    string
	missed   int    // faults whose moment came after the import ended
	crashes  string // services that ended on their own (and were started again)
	problems []string
}

func (o *outcome) fail(format string, args ...any) {
	o.problems = append(o.problems, fmt.Sprintf(format, args...))
}

// harness is what every trial shares: binaries, the PostgreSQL cluster.
type harness struct {
	t        *testing.T
	cfg      config
	bins     string
	services []string // every service under services/ but the paddock CLI
	pg       *Postgres
	recorded string
	revision string // the commit the binaries were built from
	// lastDigest is the digest of the last trial's tables.
	lastDigest map[string]Table
}

// TestChaos is `make chaos`: a clean run, then cfg.trials trials with
// faults, each checked against the clean run, and the table of trials.
func TestChaos(t *testing.T) {
	cfg := readConfig(t)
	ctx := context.Background()
	pg := &Postgres{Version: cfg.pgVersion, Name: "chaos", Port: cfg.pgPort}
	if err := pg.Usable(); err != nil {
		t.Skipf("no PostgreSQL cluster of its own can be made here, so no outage can be staged: %v", err)
	}
	root := testenv.Root(t)
	h := &harness{t: t, cfg: cfg, bins: filepath.Join(cfg.dir, "bin"), pg: pg, recorded: testenv.Recorded(t)}
	if err := os.MkdirAll(h.bins, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(root, "services"))
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for _, e := range entries {
		if e.IsDir() {
			pkgs = append(pkgs, "./services/"+e.Name())
			if e.Name() != "paddock" {
				h.services = append(h.services, e.Name())
			}
		}
	}
	h.revision = revision(ctx, root)
	start := time.Now()
	if err := Build(ctx, root, h.bins, pkgs...); err != nil {
		t.Fatal(err)
	}
	if cfg.natsBin == "" {
		cfg.natsBin = filepath.Join(h.bins, "nats-server")
		if err := Build(ctx, root, h.bins, "github.com/nats-io/nats-server/v2"); err != nil {
			t.Logf("building nats-server from the module graph failed, using /usr/sbin/nats-server: %v", err)
			cfg.natsBin = "/usr/sbin/nats-server"
		}
		h.cfg.natsBin = cfg.natsBin
	}
	t.Logf("built %d binaries in %s; seed %d; scope %v; trial files in %s", len(pkgs)+1, time.Since(start).Round(time.Second), cfg.seed, cfg.scope, cfg.dir)

	if err := pg.Create(ctx); err != nil {
		t.Skipf("no PostgreSQL cluster of its own could be made, so no outage can be staged: %v", err)
	}
	t.Cleanup(func() {
		if err := pg.Drop(context.Background()); err != nil {
			t.Errorf("drop the chaos cluster: %v", err)
		}
	})

	clean := h.trial(0, nil, nil, nil)
	ref := h.lastDigest
	if len(clean.problems) > 0 || clean.exit == "timeout" {
		t.Fatalf("the clean run failed, so no trial can be judged: %s\n%s", clean.exit, strings.Join(clean.problems, "\n"))
	}
	t.Logf("clean run: exit %s, %q in %s, %d tables, %s", clean.exit, clean.headline, clean.took.Round(100*time.Millisecond), len(ref), clean.calls)

	span := clean.took
	var outs []*outcome
	for n := 1; n <= cfg.trials; n++ {
		if len(cfg.only) > 0 && !cfg.only[n] {
			continue
		}
		faults := plan(cfg, n, h.services, span)
		o := h.trial(n, faults, &clean, ref)
		outs = append(outs, &o)
		status := "ok"
		if len(o.problems) > 0 {
			status = "FAILED: " + strings.Join(o.problems, "; ")
		}
		t.Logf("trial %d (%s): exit %s in %s: %s", n, describe(o.faults), o.exit, o.took.Round(100*time.Millisecond), status)
	}
	report := table(h, &clean, outs)
	fmt.Println(report)
	if err := os.WriteFile(filepath.Join(cfg.dir, "table.md"), []byte(report), 0o644); err != nil {
		t.Error(err)
	}
	for _, o := range outs {
		if len(o.problems) > 0 {
			t.Errorf("trial %d (%s) failed; run it alone with CHAOS_SEED=%d CHAOS_TRIAL=%d make chaos; logs in %s:\n  %s",
				o.n, describe(o.faults), cfg.seed, o.n, filepath.Join(cfg.dir, fmt.Sprintf("trial-%02d", o.n)), strings.Join(o.problems, "\n  "))
		}
	}
}

func describe(fs []fault) string {
	if len(fs) == 0 {
		return "no fault"
	}
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = f.String()
	}
	return strings.Join(s, "; ")
}

func missed(o *outcome) string {
	if o.missed == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d not reached: the import had ended)", o.missed)
}

// table is the markdown table of the trials.
func table(h *harness, clean *outcome, outs []*outcome) string {
	cfg := h.cfg
	var b strings.Builder
	supervised := "a service that ends on its own is started again a second later"
	if !cfg.supervise {
		supervised = "a service that ends on its own stays down"
	}
	fmt.Fprintf(&b, "built from %s; %s; seed %d, scope `%s`, quota %d calls per %s per host, PostgreSQL outage %s\n\n",
		h.revision, supervised, cfg.seed, strings.Join(cfg.scope, " "), cfg.quotaCalls, cfg.quotaWin, cfg.pgOutage)
	b.WriteString("| trial | faults | exit | headline | took | runs (unfinished, pending items) | tables | quota max/limit, refused | Slack summaries | calls counted/answered | services ended on their own | result |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	row := func(o *outcome) {
		res := "ok"
		if len(o.problems) > 0 {
			res = "**FAILED**: " + strings.Join(o.problems, "; ")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d %s (%d, %d) | %s | %s | %s | %s | %s | %s |\n",
			map[bool]string{true: "clean", false: strconv.Itoa(o.n)}[o.n == 0], describe(o.faults)+missed(o), o.exit, o.headline,
			o.took.Round(100*time.Millisecond), o.runs.Runs, o.runs.Statuses, o.runs.Unfinished, o.runs.Pending,
			o.tables, o.quota, o.slack, o.calls, o.crashes, strings.ReplaceAll(res, "|", "\\|"))
	}
	row(clean)
	passed := 0
	for _, o := range outs {
		row(o)
		if len(o.problems) == 0 {
			passed++
		}
	}
	fmt.Fprintf(&b, "\n%d of %d trials passed.\n", passed, len(outs))
	return b.String()
}

var headlineRE = regexp.MustCompile(`Import (complete|partial|failed)[^\n]*`)
var callsRE = regexp.MustCompile(`api_calls_made:\s+(\d+)`)

// trial runs one import on a fresh deployment (fresh database, fresh
// NATS store, fresh stand-in) with faults injected, and checks it. The
// clean run is trial 0, without faults; later trials are judged against
// it (and h.lastDigest holds the trial's table digests).
func (h *harness) trial(n int, faults []fault, clean *outcome, ref map[string]Table) outcome {
	t, cfg := h.t, h.cfg
	o := outcome{n: n, faults: faults}
	h.lastDigest = nil
	ctx := context.Background()
	dir := filepath.Join(cfg.dir, fmt.Sprintf("trial-%02d", n))
	os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "nats"), 0o755); err != nil {
		t.Fatal(err)
	}
	dbName := fmt.Sprintf("chaos_trial_%d", n)
	dbURL, err := h.pg.CreateDatabase(ctx, dbName)
	if err != nil {
		t.Fatal(err)
	}

	// The upstream, with its quota enforced.
	up, err := standin.New(h.recorded)
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	slack, err := StartSlack()
	if err != nil {
		t.Fatal(err)
	}
	defer slack.Close()

	natsPort, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	natsAddr := fmt.Sprintf("127.0.0.1:%d", natsPort)
	ns := NATS(h.cfg.natsBin, natsPort, filepath.Join(dir, "nats"), filepath.Join(dir, "nats.log"))
	if err := ns.Start(); err != nil {
		t.Fatal(err)
	}
	defer ns.Kill()
	if err := WaitListening(ctx, natsAddr, 30*time.Second); err != nil {
		t.Fatalf("nats-server: %v", err)
	}

	quota := fmt.Sprintf("%d/0s", cfg.quotaCalls)
	env := append(os.Environ(), "NATS_URL=nats://"+natsAddr, "DATABASE_URL="+dbURL, "PADDOCK_LOG_LEVEL=info",
		"SLACK_WEBHOOK_URL="+slack.URL(), "PADDOCK_ACK_WAIT=5s", "PADDOCK_QUOTA_WINDOW="+cfg.quotaWin.String(),
		"PADDOCK_QUOTA_LIVETIMING="+quota, "PADDOCK_QUOTA_MIRROR="+quota, "PADDOCK_QUOTA_JOLPICA="+quota,
		"PADDOCK_QUOTA_MULTIVIEWER="+quota, "PADDOCK_QUOTA_GITHUBRAW="+quota)
	envName := map[string]string{
		"livetiming.formula1.com": "PADDOCK_LIVETIMING_URL", "livetiming-mirror.fastf1.dev": "PADDOCK_MIRROR_URL",
		"api.jolpi.ca": "PADDOCK_JOLPICA_URL", "raw.githubusercontent.com": "PADDOCK_GITHUBRAW_URL",
		"api.multiviewer.app": "PADDOCK_MULTIVIEWER_URL",
	}
	var hosts []string
	for host, url := range up.BaseURLs() {
		if name, ok := envName[host]; ok {
			env = append(env, name+"="+url)
			up.Limit(host, cfg.quotaCalls, cfg.quotaWin)
			hosts = append(hosts, host)
		}
	}

	// The services, each on an ops port of its own for /readyz.
	svcs := map[string]*Process{}
	addrs := map[string]string{}
	for _, s := range h.services {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		addrs[s] = fmt.Sprintf("127.0.0.1:%d", port)
		// A copy per service: a restart must start it with its own address.
		own := append(slices.Clip(env), "PADDOCK_HTTP_ADDR="+addrs[s])
		svcs[s] = &Process{Name: s, Path: filepath.Join(h.bins, s), Env: own, Log: filepath.Join(dir, s+".log"), Supervise: cfg.supervise}
		if err := svcs[s].Start(); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, p := range svcs {
			_ = p.Kill()
		}
	}()
	ready := func(s string, within time.Duration) error {
		return poll(ctx, within, func() error {
			resp, err := http.Get("http://" + addrs[s] + "/readyz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s /readyz answered %d", s, resp.StatusCode)
			}
			return nil
		})
	}
	for _, s := range h.services {
		if err := ready(s, 60*time.Second); err != nil {
			t.Fatalf("trial %d: %s not ready: %v (log %s)", n, s, err, svcs[s].Log)
		}
	}

	// The harness's own NATS connection sees the plan request go out.
	planSeen := make(chan struct{}, 1)
	nc, err := nats.Connect("nats://"+natsAddr, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Subscribe(streams.PlanSubject, func(*nats.Msg) {
		select {
		case planSeen <- struct{}{}:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	// The import, bounded.
	started := time.Now()
	type result struct {
		out      string
		err      error
		attempts int
	}
	done := make(chan result, 1)
	runCtx, cancelRun := context.WithTimeout(ctx, cfg.runBound)
	defer cancelRun()
	go func() {
		var r result
		args := append(append([]string{"import"}, cfg.scope...), "--notify", "--timeout", "3m")
		for {
			r.attempts++
			cmd := exec.CommandContext(runCtx, filepath.Join(h.bins, "paddock"), args...)
			cmd.Env = env
			b, err := cmd.CombinedOutput()
			r.out, r.err = string(b), err
			// The CLI refuses to publish when no planner answers (one being
			// restarted): a user runs it again.
			if err == nil || !strings.Contains(r.out, "no planner is running") || runCtx.Err() != nil || time.Since(started) > time.Minute {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		done <- r
	}()

	// The faults, each in its own goroutine.
	var wg sync.WaitGroup
	var mu sync.Mutex
	// A fault whose moment comes after the import ended is not injected.
	faultCtx, endFaults := context.WithCancel(ctx)
	defer endFaults()
	problem := func(format string, args ...any) {
		mu.Lock()
		o.fail(format, args...)
		mu.Unlock()
	}
	restartBound := 60*time.Second + cfg.pgOutage
	for _, f := range faults {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch f.kind {
			case "plan-kill":
				select {
				case <-planSeen:
				case <-faultCtx.Done():
					select {
					case <-planSeen:
					default:
						problem("no plan request seen: the planner was not killed")
						return
					}
				}
				time.Sleep(f.at)
			default:
				select {
				case <-time.After(f.at - time.Since(started)):
				case <-faultCtx.Done():
					mu.Lock()
					o.missed++
					mu.Unlock()
					return
				}
			}
			switch f.kind {
			case "kill", "plan-kill":
				p := svcs[f.victim]
				if err := p.Kill(); err != nil {
					problem("%v", err)
				}
				time.Sleep(f.down)
				if err := p.Start(); err != nil {
					problem("%v", err)
					return
				}
				if err := ready(f.victim, restartBound); err != nil {
					problem("%s restarted but not ready: %v", f.victim, err)
				}
			case "nats":
				if err := ns.Kill(); err != nil {
					problem("%v", err)
				}
				time.Sleep(f.down)
				if err := ns.Start(); err != nil {
					problem("%v", err)
					return
				}
				if err := WaitListening(ctx, natsAddr, 30*time.Second); err != nil {
					problem("nats-server restarted but not listening: %v", err)
				}
			case "pg":
				if err := h.pg.Stop(ctx); err != nil {
					problem("%v", err)
				}
				time.Sleep(f.down)
				if err := h.pg.Start(ctx); err != nil {
					problem("PostgreSQL did not come back: %v", err)
				}
			}
		}()
	}

	var r result
	select {
	case r = <-done:
	case <-time.After(cfg.runBound + 10*time.Second):
		problem("the CLI was still running %s after its bound", cfg.runBound+10*time.Second)
	}
	o.took = time.Since(started)
	switch {
	case runCtx.Err() != nil:
		o.exit = "timeout"
		o.fail("the import did not end within %s", cfg.runBound)
	case r.err == nil:
		o.exit = "0"
	default:
		var ee *exec.ExitError
		if errors.As(r.err, &ee) {
			o.exit = strconv.Itoa(ee.ExitCode())
		} else {
			o.exit = r.err.Error()
		}
	}
	if r.attempts > 1 {
		o.exit += fmt.Sprintf(" (%d attempts)", r.attempts)
	}
	o.headline = headlineRE.FindString(r.out)
	if err := os.WriteFile(filepath.Join(dir, "import.out"), []byte(r.out), 0o644); err != nil {
		t.Error(err)
	}
	endFaults()
	// Every fault ends (a service started again, NATS and PostgreSQL back)
	// before the deployment is judged.
	faultsDone := make(chan struct{})
	go func() { wg.Wait(); close(faultsDone) }()
	select {
	case <-faultsDone:
	case <-time.After(restartBound + 30*time.Second):
		problem("the faults had not ended %s after the import", restartBound+30*time.Second)
	}
	if clean != nil {
		if strings.Fields(o.exit)[0] != clean.exit {
			o.fail("exit status %s, the clean run's %s", o.exit, clean.exit)
		}
		if strings.Fields(o.headline + " x")[0] != strings.Fields(clean.headline + " x")[0] || o.headline == "" {
			o.fail("headline %q, the clean run's %q", o.headline, clean.headline)
		}
	}

	// The run's bookkeeping settles: every run ends, no item pending.
	conn, err := connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	err = poll(ctx, cfg.settle, func() error {
		s, err := Runs(ctx, conn)
		if err != nil {
			return err
		}
		o.runs = s
		if s.Runs == 0 || s.Unfinished > 0 || s.Pending > 0 {
			return fmt.Errorf("%d runs, %d unfinished, %d items pending", s.Runs, s.Unfinished, s.Pending)
		}
		return nil
	})
	if err != nil {
		o.fail("runs did not settle: %v", err)
	}
	if o.runs.Runs > 1 {
		o.fail("%d runs recorded for one import", o.runs.Runs)
	}
	if h.lastDigest, err = Digest(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if ref != nil {
		if d := Differences(ref, h.lastDigest); len(d) > 0 {
			o.tables = fmt.Sprintf("%d of %d differ", len(d), len(ref))
			for _, s := range d {
				o.fail("table %s", s)
			}
		} else {
			o.tables = fmt.Sprintf("%d equal", len(ref))
		}
	} else {
		o.tables = fmt.Sprintf("%d (reference)", len(h.lastDigest))
	}

	// Every service stops within 30 s of SIGTERM; the services that ended
	// on their own are named.
	var crashes []string
	for _, s := range h.services {
		if n := svcs[s].Crashes(); n > 0 {
			crashes = append(crashes, fmt.Sprintf("%s×%d", s, n))
		}
		if !svcs[s].Running() {
			o.fail("%s was not running at the end", s)
		}
	}
	o.crashes = strings.Join(crashes, ", ")
	if o.crashes == "" {
		o.crashes = "none"
	}
	for _, s := range h.services {
		st, err := svcs[s].Stop(30 * time.Second)
		if err != nil {
			o.fail("%v", err)
		} else if st != nil && !st.Success() {
			o.fail("%s exited %s after SIGTERM", s, st)
		}
	}

	// The quota: no request refused, never more than the limit in a window.
	worst, worstHost := 0, ""
	for _, host := range hosts {
		if m := up.MaxInWindow(host, cfg.quotaWin); m > worst {
			worst, worstHost = m, host
		}
	}
	o.quota = fmt.Sprintf("%d/%d, %d", worst, cfg.quotaCalls, up.Violations())
	if worst > cfg.quotaCalls {
		o.fail("%s had %d requests within %s, the limit is %d", worstHost, worst, cfg.quotaWin, cfg.quotaCalls)
	}
	if v := up.Violations(); v > 0 {
		o.fail("the stand-in refused %d requests over its quota", v)
	}

	// Nothing duplicated that a user sees: one Slack summary per run.
	sums, others := slack.Summaries()
	o.slack = fmt.Sprintf("%d (+%d pauses)", sums, others)
	if o.runs.Runs > 0 && sums != o.runs.Runs {
		o.fail("%d Slack summaries for %d runs", sums, o.runs.Runs)
	}

	// Every request counted: the summary's api_calls_made against what the
	// stand-in answered (a kill between counting and sending may count one
	// more than was sent).
	answered := up.Requests()
	if m := callsRE.FindStringSubmatch(r.out); m != nil {
		made, _ := strconv.ParseInt(m[1], 10, 64)
		o.calls = fmt.Sprintf("%d/%d", made, answered)
		if made < answered {
			o.fail("api_calls_made %d, the stand-in answered %d", made, answered)
		}
	} else {
		o.calls = fmt.Sprintf("?/%d", answered)
	}
	if len(o.problems) == 0 {
		_ = h.pg.DropDatabase(ctx, dbName)
	}
	return o
}

// revision names the commit the working tree is at, and whether tracked
// files differ from it.
func revision(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "an unknown revision"
	}
	rev := strings.TrimSpace(string(out))
	if exec.CommandContext(ctx, "git", "-C", root, "diff", "--quiet", "HEAD").Run() != nil {
		rev += " with uncommitted changes"
	}
	return rev
}

func connect(ctx context.Context, url string) (*pgx.Conn, error) {
	var c *pgx.Conn
	err := poll(ctx, 30*time.Second, func() error {
		var err error
		c, err = pgx.Connect(ctx, url)
		return err
	})
	return c, err
}
