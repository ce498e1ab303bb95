package watch_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/watch"
)

// TestLeaseOneHolderAndTakeover runs the lease on the embedded server
// (nats-server 2.15) and, where the nats-server binary is installed, on
// that one too (2.9 on the reference machine: the oldest server paddock
// supports, whose key-value TTL is the bucket's only).
func TestLeaseOneHolderAndTakeover(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		srv, err := natsrv.Start(natsrv.Options{StoreDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)
		testLease(t, func(name string) *nats.Conn {
			nc, err := srv.Connect(name)
			if err != nil {
				t.Fatal(err)
			}
			return nc
		})
	})
	t.Run("nats-server binary", func(t *testing.T) {
		url := startBinary(t)
		testLease(t, func(name string) *nats.Conn {
			nc, err := nats.Connect(url, nats.Name(name))
			if err != nil {
				t.Fatal(err)
			}
			return nc
		})
	})
}

func testLease(t *testing.T, connect func(name string) *nats.Conn) {
	ctx := context.Background()
	const ttl = time.Second
	open := func(name string, ttl time.Duration) (*watch.Lease, *nats.Conn) {
		nc := connect(name)
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		l, err := watch.OpenLease(ctx, js, name, ttl, 1)
		if err != nil {
			t.Fatalf("open lease %s: %v", name, err)
		}
		return l, nc
	}
	a, anc := open("a", ttl)
	b, _ := open("b", time.Minute) // the bucket's TTL wins
	if b.TTL() != ttl {
		t.Fatalf("b's TTL = %s, want the bucket's %s", b.TTL(), ttl)
	}
	hold := func(l *watch.Lease) bool {
		t.Helper()
		held, err := l.Hold(ctx)
		if err != nil {
			t.Fatalf("hold: %v", err)
		}
		return held
	}
	if !hold(a) {
		t.Fatal("a did not take the free lease")
	}
	// a renews well within the TTL for three TTLs; b never gets it.
	for end := time.Now().Add(3 * ttl); time.Now().Before(end); {
		if !hold(a) {
			t.Fatal("a lost the lease it renews")
		}
		if hold(b) {
			t.Fatal("b took the lease a holds")
		}
		time.Sleep(ttl / 5)
	}
	if h, err := b.Holder(ctx); err != nil || h != "a" {
		t.Fatalf("holder = %q, %v; want a", h, err)
	}

	// a dies (no release): b takes over once the TTL has passed.
	died := time.Now()
	anc.Close()
	deadline := died.Add(10 * ttl)
	for !hold(b) {
		if time.Now().After(deadline) {
			t.Fatalf("b did not take the lease within %s of a's death", 10*ttl)
		}
		time.Sleep(ttl / 10)
	}
	if waited := time.Since(died); waited < ttl/2 {
		t.Errorf("b took the lease %s after a died, before its TTL %s could run out", waited, ttl)
	}
	if a.Held() {
		t.Error("a still counts itself the holder after its TTL")
	}

	// A restarted a stands by; b's release hands it over at once.
	a2, _ := open("a", ttl)
	if hold(a2) {
		t.Fatal("a took the lease b holds")
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if !hold(a2) {
		t.Fatal("a did not take the lease b released")
	}
	if hold(b) {
		t.Fatal("b took back the lease a holds")
	}
}

// startBinary starts the installed nats-server with JetStream on a free
// port and returns its URL; the test is skipped without one.
func startBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("nats-server is not installed")
	}
	if out, err := exec.Command(bin, "--version").Output(); err == nil {
		t.Logf("%s", strings.TrimSpace(string(out)))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-sd", filepath.Join(t.TempDir(), "js"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := nats.Connect(url)
		if err == nil {
			js, _ := jetstream.New(nc)
			_, err = js.AccountInfo(context.Background())
			nc.Close()
			if err == nil {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server on %s not ready after 10s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
