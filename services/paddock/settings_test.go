package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/testenv"
)

var (
	builtMu sync.Mutex
	built   = map[string]string{} // service -> binary
)

// serviceBinary builds one service (services/<svc>) once per test binary.
func serviceBinary(t *testing.T, svc string) string {
	t.Helper()
	builtMu.Lock()
	defer builtMu.Unlock()
	if bin, ok := built[svc]; ok {
		return bin
	}
	dir, err := os.MkdirTemp("", "paddock-settings-")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, svc)
	build := exec.Command("go", "build", "-o", bin, "./services/"+svc)
	build.Dir = testenv.Root(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", svc, err, out)
	}
	built[svc] = bin
	return bin
}

// TestBadSettingStopsTheProcess starts service binaries and the CLI with
// bad settings: each exits at once with code 2, naming every bad value
// and what a good one looks like, before it connects to anything (NATS
// points at a closed port, so a process that went on would fail
// otherwise).
func TestBadSettingStopsTheProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	busy := taken.Addr().String()
	deadNATS := "nats://" + freeAddr(t)
	for _, tc := range []struct {
		name string
		svc  string
		args []string
		env  []string
		want []string
	}{
		{name: "port taken", svc: "planner", env: []string{"PADDOCK_HTTP_ADDR=" + busy},
			want: []string{"PADDOCK_HTTP_ADDR " + busy + ": address already in use: free the port or set PADDOCK_HTTP_ADDR"}},
		{name: "port taken", svc: "loader", env: []string{"PADDOCK_HTTP_ADDR=" + busy},
			want: []string{"PADDOCK_HTTP_ADDR " + busy + ": address already in use: free the port or set PADDOCK_HTTP_ADDR"}},
		{name: "port taken", svc: "extract-weather", env: []string{"PADDOCK_HTTP_ADDR=" + busy},
			want: []string{"PADDOCK_HTTP_ADDR " + busy + ": address already in use: free the port or set PADDOCK_HTTP_ADDR"}},
		{name: "port taken", svc: "notifier", env: []string{"PADDOCK_HTTP_ADDR=" + busy},
			want: []string{"PADDOCK_HTTP_ADDR " + busy + ": address already in use: free the port or set PADDOCK_HTTP_ADDR"}},
		{name: "bad values", svc: "loader",
			env: []string{"PADDOCK_HTTP_TIMEOUT=0s", "PADDOCK_QUOTA_WINDOW=-1h", "PADDOCK_LOG_LEVEL=loud", "PADDOCK_ACK_WAIT=0s", "PADDOCK_HTTP_MAX_BODY=0"},
			want: []string{`PADDOCK_HTTP_TIMEOUT="0s": want a duration over 0`, `PADDOCK_QUOTA_WINDOW="-1h": want a duration over 0`,
				`PADDOCK_LOG_LEVEL="loud": unknown log level: want debug, info, warn or error`, `PADDOCK_ACK_WAIT="0s"`, `PADDOCK_HTTP_MAX_BODY="0"`}},
		{name: "bad values", svc: "planner", env: []string{"PADDOCK_SCHEDULE_WAIT=0s", "PADDOCK_LOG_LEVEL=verbose"},
			want: []string{`PADDOCK_SCHEDULE_WAIT="0s"`, `PADDOCK_LOG_LEVEL="verbose"`}},
		{name: "bad values", svc: "extract-weather", env: []string{"PADDOCK_CONCURRENCY=0", "PADDOCK_LOG_LEVEL=loud"},
			want: []string{`PADDOCK_CONCURRENCY="0": want 1 or more`, `PADDOCK_LOG_LEVEL="loud"`}},
		{name: "bad values", svc: "notifier", env: []string{"PADDOCK_STREAM_REPLICAS=0", "PADDOCK_LOG_LEVEL=loud"},
			want: []string{`PADDOCK_STREAM_REPLICAS="0": want 1 to 5`, `PADDOCK_LOG_LEVEL="loud"`}},
		{name: "log level", svc: "paddock", args: []string{"gaps", "--year", "2019"}, env: []string{"PADDOCK_LOG_LEVEL=loud"},
			want: []string{`PADDOCK_LOG_LEVEL="loud": unknown log level`}},
		{name: "port taken", svc: "paddock", args: []string{"dev", "--http-addr", busy, "--data-dir", t.TempDir()},
			want: []string{"--http-addr " + busy + ": address already in use: free the port or set --http-addr"}},
	} {
		t.Run(tc.svc+" "+tc.name, func(t *testing.T) {
			bin := serviceBinary(t, tc.svc)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, tc.args...)
			cmd.Env = append(os.Environ(), "NATS_URL="+deadNATS, "DATABASE_URL=postgres://postgres@"+freeAddr(t)+"/none")
			cmd.Env = append(cmd.Env, tc.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			t0 := time.Now()
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("%s %v exited with %v after %s, want code 2:\n%s", tc.svc, tc.env, err, time.Since(t0).Round(time.Millisecond), stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}
