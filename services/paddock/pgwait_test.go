package main

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/testenv"
)

// TestServiceStartedDuringAPostgreSQLOutageWaitsForIt: an extractor (re)started
// while PostgreSQL is down does not exit: it says it waits, and becomes
// ready once PostgreSQL is back, as a service restarted mid-outage must.
func TestServiceStartedDuringAPostgreSQLOutageWaitsForIt(t *testing.T) {
	d := newDeployment(t)
	pg := testenv.NewOutage(t, d.db)
	pg.Cut()
	addr := freeAddr(t)
	var log testenv.Output
	x := exec.Command(filepath.Join(d.bin, "extract-weather"))
	x.Env = append(append([]string(nil), d.env...), "PADDOCK_HTTP_ADDR="+addr, "DATABASE_URL="+pg.URL(d.db), "PADDOCK_LOG_LEVEL=info")
	x.Stdout, x.Stderr = &log, &log
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- x.Wait() }()
	t.Cleanup(func() {
		_ = x.Process.Kill()
		<-exited
	})
	// Well past the first attempts: still there, and saying why.
	select {
	case err := <-exited:
		exited <- err
		t.Fatalf("extract-weather exited while PostgreSQL was down (%v):\n%s", err, log.String())
	case <-time.After(4 * time.Second):
	}
	if out := log.String(); !strings.Contains(out, "PostgreSQL unreachable: waiting for it") {
		t.Fatalf("extract-weather does not say it waits for PostgreSQL:\n%s", out)
	}
	pg.Heal()
	waitFor(t, 30*time.Second, func() error {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	})
}
