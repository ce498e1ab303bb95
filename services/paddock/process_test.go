package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/standin"
	"github.com/paddock-f1/paddock/pkg/testenv"
)

// deployment runs paddock's services as separate processes against a
// NATS server on a TCP port, a fresh database and the recorded upstream.
type deployment struct {
	t     *testing.T
	ns    *natsrv.Server
	nsDir string
	port  int
	bin   string
	env   []string
	db    string
	up    *standin.Server
	mu    sync.Mutex
	procs []*exec.Cmd
	logs  []*bytes.Buffer
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds every service once per test binary.
func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root := testenv.Root(t)
		binDir, buildErr = os.MkdirTemp("", "paddock-bin-")
		if buildErr != nil {
			return
		}
		svcs := []string{"planner", "loader", "notifier", "paddock"}
		for _, k := range kinds.Names() {
			svcs = append(svcs, "extract-"+k)
		}
		for _, svc := range svcs {
			build := exec.Command("go", "build", "-o", filepath.Join(binDir, svc), "./services/"+svc)
			build.Dir = root
			if out, err := build.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("build %s: %v\n%s", svc, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func newDeployment(t *testing.T, extraEnv ...string) *deployment {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	d := &deployment{t: t, bin: binaries(t), db: testenv.Database(t), nsDir: t.TempDir()}
	_, port, _ := net.SplitHostPort(freeAddr(t))
	fmt.Sscan(port, &d.port)
	ns, err := natsrv.Start(natsrv.Options{StoreDir: d.nsDir, Port: d.port})
	if err != nil {
		t.Fatal(err)
	}
	d.ns = ns
	t.Cleanup(func() { d.ns.Shutdown() })
	if d.up, err = standin.New(testenv.Recorded(t)); err != nil {
		t.Fatal(err)
	}
	if err := d.up.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.up.Close() })
	d.env = append(os.Environ(), "NATS_URL="+ns.ClientURL(), "DATABASE_URL="+d.db, "PADDOCK_LOG_LEVEL=warn")
	envName := map[string]string{
		"livetiming.formula1.com": "PADDOCK_LIVETIMING_URL", "livetiming-mirror.fastf1.dev": "PADDOCK_MIRROR_URL",
		"api.jolpi.ca": "PADDOCK_JOLPICA_URL", "raw.githubusercontent.com": "PADDOCK_GITHUBRAW_URL",
		"api.multiviewer.app": "PADDOCK_MULTIVIEWER_URL",
	}
	for host, url := range d.up.BaseURLs() {
		if name, ok := envName[host]; ok {
			d.env = append(d.env, name+"="+url)
		}
	}
	d.env = append(d.env, extraEnv...)
	t.Cleanup(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, p := range d.procs {
			if p.ProcessState == nil {
				_ = p.Process.Kill()
				_ = p.Wait()
			}
		}
		if t.Failed() {
			for i, l := range d.logs {
				t.Logf("%s output:\n%s", filepath.Base(d.procs[i].Path), l.String())
			}
		}
	})
	return d
}

// restartNATS stops the NATS server and starts it again on the same
// port and store after pause.
func (d *deployment) restartNATS(pause time.Duration) {
	d.t.Helper()
	d.ns.Shutdown()
	time.Sleep(pause)
	ns, err := natsrv.Start(natsrv.Options{StoreDir: d.nsDir, Port: d.port})
	if err != nil {
		d.t.Fatalf("restart NATS: %v", err)
	}
	d.ns = ns
}

// start runs a service process with its ops endpoint on addr.
func (d *deployment) start(name, addr string) *exec.Cmd {
	d.t.Helper()
	cmd := exec.Command(filepath.Join(d.bin, name))
	cmd.Env = append(d.env, "PADDOCK_HTTP_ADDR="+addr)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.mu.Lock()
	d.procs, d.logs = append(d.procs, cmd), append(d.logs, &log)
	d.mu.Unlock()
	return cmd
}

// startAll runs planner, loader, two weather extractors and one extractor
// of every other kind of the registry, and waits for the planner's
// /healthz.
func (d *deployment) startAll() (loader *exec.Cmd) {
	plannerAddr := freeAddr(d.t)
	d.start("planner", plannerAddr)
	// Only the planner's address is needed; the others listen where the
	// kernel puts them, so no port picked here can be taken meanwhile.
	loader = d.start("loader", anyPort)
	d.start("extract-weather", anyPort)
	for _, k := range kinds.Names() {
		d.start("extract-"+k, anyPort)
	}
	d.start("notifier", anyPort)
	waitFor(d.t, 30*time.Second, func() error {
		resp, err := http.Get("http://" + plannerAddr + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("healthz %d", resp.StatusCode)
		}
		return nil
	})
	return loader
}

// paddock runs the CLI and returns its output.
func (d *deployment) paddock(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(d.bin, "paddock"), args...)
	cmd.Env = d.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// importOnce runs 'paddock import', retrying while the planner registers.
func (d *deployment) importOnce(args ...string) string {
	d.t.Helper()
	var out string
	var err error
	waitFor(d.t, 30*time.Second, func() error {
		out, err = d.paddock(append([]string{"import"}, args...)...)
		if err != nil && strings.Contains(out, "no planner is running") {
			return err
		}
		return nil
	})
	if err != nil {
		d.t.Fatalf("paddock import %v: %v\n%s", args, err, out)
	}
	return out
}

// stopAll sends SIGTERM to every running service and checks each drains
// and exits 0 within 30 s.
func (d *deployment) stopAll() {
	d.mu.Lock()
	procs := append([]*exec.Cmd(nil), d.procs...)
	d.mu.Unlock()
	for _, p := range procs {
		if p.ProcessState == nil {
			_ = p.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, p := range procs {
		if p.ProcessState != nil {
			continue
		}
		done := make(chan error, 1)
		go func() { done <- p.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				d.t.Errorf("%s exited with %v after SIGTERM", filepath.Base(p.Path), err)
			}
		case <-time.After(30 * time.Second):
			d.t.Errorf("%s did not stop within 30s of SIGTERM", filepath.Base(p.Path))
		}
	}
}

// TestServicesAsProcesses runs planner, loader and two extract-weather
// instances as separate processes against a NATS server on a TCP port,
// imports a session with the CLI over NATS_URL, exports it, and stops
// every service with SIGTERM.
func TestServicesAsProcesses(t *testing.T) {
	d := newDeployment(t)
	d.startAll()
	out := d.importOnce("--year", "2019", "--round", "14", "--session", "Q", "--kinds", "weather")
	for _, want := range []string{"Import complete", "sessions_succeeded:   1", "api_calls_made:       5"} {
		if !strings.Contains(out, want) {
			t.Fatalf("import output lacks %q:\n%s", want, out)
		}
	}
	if d.up.Requests() != 5 {
		t.Fatalf("stand-in answered %d requests, the summary said 5", d.up.Requests())
	}
	csv, err := d.paddock("export", "weather", "--year", "2019", "--round", "14", "--session", "Qualifying")
	if err != nil {
		t.Fatalf("export: %v\n%s", err, csv)
	}
	want, err := os.ReadFile(filepath.Join(testenv.Reference(t), "2019_14_Italian_Grand_Prix_Qualifying", "weather.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if csv != string(want) {
		t.Fatalf("exported weather differs from FastF1's:\n%s", firstDiff(csv, string(want)))
	}
	d.importOnce("--year", "2019", "--round", "14", "--session", "Q", "--kinds", "laps")
	lapsCSV, err := d.paddock("export", "laps", "--year", "2019", "--round", "14", "--session", "Q")
	if err != nil {
		t.Fatalf("export laps: %v\n%s", err, lapsCSV)
	}
	wantLaps, err := os.ReadFile(filepath.Join(testenv.Reference(t), "2019_14_Italian_Grand_Prix_Qualifying", "laps.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if lapsCSV != string(wantLaps) {
		t.Fatalf("exported laps differ from FastF1's:\n%s", firstDiff(lapsCSV, string(wantLaps)))
	}
	out, err = d.paddock("import", "--year", "1949")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(out, "year 1949 is outside the archive") {
		t.Fatalf("bad command: err %v, output %q", err, out)
	}
	gaps, err := d.paddock("gaps", "--year", "2019", "--round", "14", "--json")
	var report struct {
		RunID     string `json:"run_id"`
		GapReport struct {
			SessionGaps []struct {
				Session string   `json:"session"`
				Kinds   []string `json:"kinds"`
			} `json:"session_gaps"`
		} `json:"gap_report"`
	}
	if err != nil || json.Unmarshal([]byte(gaps), &report) != nil || report.RunID != "" || len(report.GapReport.SessionGaps) != 5 {
		t.Fatalf("paddock gaps --json: %v\n%s", err, gaps)
	}
	quota, err := d.paddock("quota")
	if err != nil || !strings.Contains(quota, "livetiming.formula1.com") || !strings.Contains(quota, " OK") {
		t.Fatalf("paddock quota: %v\n%s", err, quota)
	}
	d.stopAll()
}

// TestLoaderKilledMidImport kills the loader with SIGKILL in the middle of
// a whole-year import under a small quota and starts a new one: the
// window holds across the restart (the stand-in enforces it), the run
// completes, nothing is lost and nothing is duplicated.
func TestLoaderKilledMidImport(t *testing.T) {
	const calls, window = 20, 2 * time.Second
	quota := fmt.Sprintf("%d/0s", calls)
	d := newDeployment(t, "PADDOCK_QUOTA_WINDOW="+window.String(), "PADDOCK_ACK_WAIT=2s",
		"PADDOCK_QUOTA_LIVETIMING="+quota, "PADDOCK_QUOTA_MIRROR="+quota, "PADDOCK_QUOTA_JOLPICA="+quota, "PADDOCK_QUOTA_GITHUBRAW="+quota)
	hosts := []string{"livetiming.formula1.com", "livetiming-mirror.fastf1.dev", "api.jolpi.ca", "raw.githubusercontent.com"}
	for _, h := range hosts {
		d.up.Limit(h, calls, window)
	}
	loader := d.startAll()

	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			r.out, r.err = d.paddock("import", "--year", "2019", "--timeout", "5m")
			if r.err == nil || !strings.Contains(r.out, "no planner is running") || time.Now().After(deadline) {
				break
			}
		}
		done <- r
	}()
	waitFor(t, 60*time.Second, func() error {
		if n := d.up.Requests(); n < 60 {
			return fmt.Errorf("%d requests so far", n)
		}
		return nil
	})
	killedAt := d.up.Requests()
	if err := loader.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = loader.Wait()
	d.start("loader", anyPort)

	var r result
	select {
	case r = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the import did not finish within 3 minutes of the restart")
	}
	// Most of 2019 is not in the recordings: the run ends partial, its
	// unavailable kinds listed, and nothing failed.
	if r.err != nil || !strings.Contains(r.out, "Import partial - Season 2019: ") || strings.Contains(r.out, " failed\n") || !strings.Contains(r.out, "  unavailable: ") {
		t.Fatalf("import after the restart: %v\n%s", r.err, r.out)
	}
	if v := d.up.Violations(); v != 0 {
		t.Fatalf("the stand-in refused %d requests over its quota", v)
	}
	for _, h := range hosts {
		if n := d.up.MaxInWindow(h, window); n > calls {
			t.Errorf("%s: %d requests within %s across the restart, limit %d", h, n, window, calls)
		}
	}
	var made int
	if _, err := fmt.Sscanf(r.out[strings.Index(r.out, "api_calls_made:"):], "api_calls_made: %d", &made); err != nil {
		t.Fatalf("no api_calls_made in %s", r.out)
	}
	// A request is recorded just before it is sent: a kill between the two
	// may count one request the stand-in never saw.
	if got := d.up.Requests(); int64(made) < got || int64(made) > got+1 {
		t.Errorf("api_calls_made %d, the stand-in answered %d", made, got)
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, d.db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var settled, samples, distinct int
	_ = conn.QueryRow(ctx, `SELECT count(*) FROM extractions WHERE year=2019 AND kind='weather' AND status IN ('done','unavailable')`).Scan(&settled)
	_ = conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT session_time) FROM weather_samples WHERE year=2019 AND round=14 AND session='Qualifying'`).Scan(&samples, &distinct)
	if settled != 105 || samples != 95 || distinct != 95 {
		t.Fatalf("after the restart: %d of 105 sessions settled, %d samples (%d distinct), want 95", settled, samples, distinct)
	}
	t.Logf("killed the loader after %d requests; %d requests in all, at most %d per %s per host", killedAt, d.up.Requests(), calls, window)
	d.stopAll()
}

// TestNATSRestartMidImport stops the NATS server in the middle of a
// whole-year import and starts it again: every service reconnects by
// itself, the run completes, and nothing is lost or duplicated.
func TestNATSRestartMidImport(t *testing.T) {
	const quota = "30/0s"
	d := newDeployment(t, "PADDOCK_QUOTA_WINDOW=2s", "PADDOCK_ACK_WAIT=3s",
		"PADDOCK_QUOTA_LIVETIMING="+quota, "PADDOCK_QUOTA_MIRROR="+quota, "PADDOCK_QUOTA_JOLPICA="+quota, "PADDOCK_QUOTA_GITHUBRAW="+quota)
	d.startAll()
	done := make(chan string, 1)
	go func() {
		var out string
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			var err error
			out, err = d.paddock("import", "--year", "2019", "--kinds", "weather", "--timeout", "5m")
			if err == nil || !strings.Contains(out, "no planner is running") || time.Now().After(deadline) {
				break
			}
		}
		done <- out
	}()
	waitFor(t, 60*time.Second, func() error {
		if n := d.up.Requests(); n < 60 {
			return fmt.Errorf("%d requests so far", n)
		}
		return nil
	})
	d.restartNATS(time.Second)
	var out string
	select {
	case out = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the import did not finish within 3 minutes of the NATS restart")
	}
	if !strings.Contains(out, "Import partial - Season 2019: ") || strings.Contains(out, " failed\n") {
		t.Fatalf("import across a NATS restart:\n%s", out)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, d.db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var settled, samples int
	_ = conn.QueryRow(ctx, `SELECT count(*) FROM extractions WHERE year=2019 AND kind='weather' AND status IN ('done','unavailable')`).Scan(&settled)
	_ = conn.QueryRow(ctx, `SELECT count(*) FROM weather_samples WHERE year=2019`).Scan(&samples)
	if settled != 105 || samples != 95 {
		t.Fatalf("after the restart: %d of 105 sessions settled, %d samples, want 95", settled, samples)
	}
	d.stopAll()
}

// TestDevServesOtherProcesses runs 'paddock dev' (every service and an
// embedded NATS server in one process, opened with --listen) and imports
// through it from another 'paddock' process over NATS_URL.
func TestDevServesOtherProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	bin := binaries(t)
	_, port, _ := net.SplitHostPort(freeAddr(t))
	env := append(os.Environ(), "DATABASE_URL="+testenv.Database(t), "PADDOCK_LOG_LEVEL=warn")
	dev := exec.Command(filepath.Join(bin, "paddock"), "dev", "--listen", port, "--recorded", testenv.Recorded(t), "--data-dir", t.TempDir())
	dev.Env = env
	var log bytes.Buffer
	dev.Stdout, dev.Stderr = &log, &log
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = dev.Process.Signal(syscall.SIGTERM)
		if err := dev.Wait(); err != nil {
			t.Errorf("paddock dev exited with %v after SIGTERM:\n%s", err, log.String())
		}
	}()
	var out string
	waitFor(t, 60*time.Second, func() error {
		cmd := exec.Command(filepath.Join(bin, "paddock"), "import", "--year", "2019", "--round", "14", "--session", "Q", "--kinds", "weather")
		cmd.Env = append(env, "NATS_URL=nats://127.0.0.1:"+port)
		b, err := cmd.CombinedOutput()
		out = string(b)
		if err != nil && (strings.Contains(out, "unreachable") || strings.Contains(out, "no planner is running") || strings.Contains(out, "no paddock services")) {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	if !strings.Contains(out, "Import complete") || !strings.Contains(out, "api_calls_made:       5") {
		t.Fatalf("import through paddock dev:\n%s\ndev:\n%s", out, log.String())
	}
}

// anyPort is a PADDOCK_HTTP_ADDR on a port the kernel chooses.
const anyPort = "127.0.0.1:0"

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitFor polls f until it succeeds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		err := f()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not ready after %s: %v", timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: got %q, want %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(g), len(w))
}
