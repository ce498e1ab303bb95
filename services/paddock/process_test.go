package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/standin"
	"github.com/paddock-f1/paddock/pkg/testenv"
)

// TestServicesAsProcesses runs planner, loader and two extract-weather
// instances as separate processes against a NATS server on a TCP port,
// imports a session with the CLI over NATS_URL, exports it, and stops
// every service with SIGTERM.
func TestServicesAsProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	root := testenv.Root(t)
	bin := t.TempDir()
	for _, svc := range []string{"planner", "loader", "extract-weather", "paddock"} {
		build := exec.Command("go", "build", "-o", filepath.Join(bin, svc), "./services/"+svc)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", svc, err, out)
		}
	}

	// A real nats-server with JetStream on a TCP port.
	ns, err := natsrv.Start(natsrv.Options{StoreDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)

	// The recorded upstream.
	up, err := standin.New(testenv.Recorded(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })

	env := append(os.Environ(),
		"NATS_URL="+ns.ClientURL(),
		"DATABASE_URL="+testenv.Database(t),
		"PADDOCK_LOG_LEVEL=warn",
	)
	for host, url := range up.BaseURLs() {
		switch host {
		case "livetiming.formula1.com":
			env = append(env, "PADDOCK_LIVETIMING_URL="+url)
		case "livetiming-mirror.fastf1.dev":
			env = append(env, "PADDOCK_MIRROR_URL="+url)
		case "api.jolpi.ca":
			env = append(env, "PADDOCK_JOLPICA_URL="+url)
		case "raw.githubusercontent.com":
			env = append(env, "PADDOCK_GITHUBRAW_URL="+url)
		case "api.multiviewer.app":
			env = append(env, "PADDOCK_MULTIVIEWER_URL="+url)
		}
	}

	plannerAddr := freeAddr(t)
	var procs []*exec.Cmd
	var logs []*bytes.Buffer
	for _, p := range []struct{ name, addr string }{
		{"planner", plannerAddr}, {"loader", freeAddr(t)},
		{"extract-weather", freeAddr(t)}, {"extract-weather", freeAddr(t)},
	} {
		cmd := exec.Command(filepath.Join(bin, p.name))
		cmd.Env = append(env, "PADDOCK_HTTP_ADDR="+p.addr)
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs, logs = append(procs, cmd), append(logs, &log)
	}
	t.Cleanup(func() {
		for _, p := range procs {
			_ = p.Process.Kill()
		}
	})
	defer func() {
		if t.Failed() {
			for i, l := range logs {
				t.Logf("%s output:\n%s", procs[i].Path, l.String())
			}
		}
	}()

	// The planner's /healthz answers once it is connected.
	waitFor(t, 30*time.Second, func() error {
		resp, err := http.Get("http://" + plannerAddr + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("healthz %d", resp.StatusCode)
		}
		return nil
	})

	paddock := func(args ...string) (string, error) {
		cmd := exec.Command(filepath.Join(bin, "paddock"), args...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	// The planner may still be registering its endpoint: retry briefly.
	var out string
	waitFor(t, 30*time.Second, func() error {
		out, err = paddock("import", "--year", "2019", "--round", "14", "--session", "Q")
		if err != nil && strings.Contains(out, "no planner is running") {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("paddock import: %v\n%s", err, out)
	}
	for _, want := range []string{"Import complete", "sessions_succeeded:   1", "api_calls_made:       5"} {
		if !strings.Contains(out, want) {
			t.Fatalf("import output lacks %q:\n%s", want, out)
		}
	}
	if up.Requests() != 5 {
		t.Fatalf("stand-in answered %d requests, the summary said 5", up.Requests())
	}
	csv, err := paddock("export", "weather", "--year", "2019", "--round", "14", "--session", "Qualifying")
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
	out, err = paddock("import", "--year", "1949")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(out, "year 1949 is outside the archive") {
		t.Fatalf("bad command: err %v, output %q", err, out)
	}

	// SIGTERM: every service drains and exits 0.
	for _, p := range procs {
		_ = p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		done := make(chan error, 1)
		go func() { done <- p.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s exited with %v after SIGTERM", filepath.Base(p.Path), err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not stop within 30s of SIGTERM", filepath.Base(p.Path))
		}
	}
}

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
