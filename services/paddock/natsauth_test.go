package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/streams"
)

// TestServiceStopsWhenNATSRefusesTheLogin runs the planner binary against
// a nats-server that requires a user and password. With a wrong password
// the process ends by itself within 15 s, with a non-zero exit code and a
// message that NATS refused the login with the user and password of
// NATS_URL, without printing either password; with the right one it
// becomes ready.
func TestServiceStopsWhenNATSRefusesTheLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	const right, wrong = "natsauth-right-5c1e", "natsauth-wrong-9d7b"
	bin := binaries(t)
	ns, err := natsrv.Start(natsrv.Options{StoreDir: t.TempDir(), Port: -1, Username: "paddock", Password: right})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	hostPort := strings.TrimPrefix(ns.ClientURL(), "nats://")
	env := append(os.Environ(), "DATABASE_URL="+testenv.Database(t), "PADDOCK_LOG_LEVEL=info")

	t.Run("wrong password", func(t *testing.T) {
		cmd := exec.Command(filepath.Join(bin, "planner"))
		cmd.Env = append(env, "NATS_URL=nats://paddock:"+wrong+"@"+hostPort, "PADDOCK_HTTP_ADDR=127.0.0.1:0")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		select {
		case err = <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("the planner still runs 15s after NATS refused its password; it printed:\n%s", out.String())
		}
		t.Logf("exit after %s: %v\n%s", time.Since(start).Round(time.Millisecond), err, out.String())
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 {
			t.Errorf("exit %v: want a non-zero exit code", err)
		}
		text := out.String()
		if !strings.Contains(text, "authentication failed with user and password in NATS_URL") {
			t.Errorf("the output does not say NATS refused the user and password of NATS_URL:\n%s", text)
		}
		if strings.Contains(strings.ToLower(text), "unreachable") {
			t.Errorf("a refused login is reported as unreachable:\n%s", text)
		}
		for _, pw := range []string{wrong, right} {
			if strings.Contains(text, pw) {
				t.Errorf("the output prints the password %q:\n%s", pw, text)
			}
		}
	})

	t.Run("right password", func(t *testing.T) {
		addr := freeAddr(t)
		cmd := exec.Command(filepath.Join(bin, "planner"))
		cmd.Env = append(env, "NATS_URL=nats://paddock:"+right+"@"+hostPort, "PADDOCK_HTTP_ADDR="+addr)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			if t.Failed() {
				t.Logf("planner output:\n%s", out.String())
			}
		})
		waitFor(t, 30*time.Second, httpOK("http://"+addr+"/readyz"))

		// The password is rotated on the server (restarted on the same
		// port with another): the planner stops, saying why, as it does
		// when refused at start, instead of running on without NATS.
		ns.Shutdown()
		port, _ := strconv.Atoi(hostPort[strings.LastIndex(hostPort, ":")+1:])
		rotated, err := natsrv.Start(natsrv.Options{StoreDir: t.TempDir(), Port: port, Username: "paddock", Password: "natsauth-rotated-7a2f"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rotated.Shutdown)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var werr error
		select {
		case werr = <-done:
		case <-time.After(15 * time.Second):
			t.Fatalf("the planner still runs 15s after NATS refused its rotated-away password; it printed:\n%s", out.String())
		}
		var exit *exec.ExitError
		if !errors.As(werr, &exit) || exit.ExitCode() == 0 || !strings.Contains(out.String(), "authentication failed with user and password in NATS_URL") {
			t.Fatalf("exit %v, want a non-zero exit that says NATS refused the login; it printed:\n%s", werr, out.String())
		}
		if strings.Contains(out.String(), right) {
			t.Errorf("the output prints the password:\n%s", out.String())
		}
	})
}

// TestStatusAuthenticatesToNATS: `paddock status` reads what the services
// are backing off on from a NATS that admits only an nkey user, with the
// seed of NATS_NKEY, as every other command connects.
func TestStatusAuthenticatesToNATS(t *testing.T) {
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := user.PublicKey()
	seed, _ := user.Seed()
	seedFile := filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, Nkeys: []*server.NkeyUser{{Nkey: pub}}})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready after 10s")
	}
	t.Cleanup(ns.Shutdown)
	natsURL := "nats://" + ns.Addr().String()

	// A consumer's report that it is backing off on a PostgreSQL outage.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nkey, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(natsURL, nkey)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := streams.Apply(ctx, js, 0); err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, streams.BackoffBucket)
	if err != nil {
		t.Fatal(err)
	}
	report, _ := json.Marshal(streams.Backoff{Consumer: streams.ExtractorConsumer("weather"), Messages: 1, Reason: "postgresql",
		Error: "dial tcp 127.0.0.1:5432: connect: connection refused", Since: time.Now().Add(-time.Minute), Updated: time.Now(), Instance: "test"})
	if _, err := kv.Put(ctx, streams.ExtractorConsumer("weather")+".test", report); err != nil {
		t.Fatal(err)
	}

	t.Setenv("DATABASE_URL", statusDB(t))
	t.Setenv("NATS_URL", natsURL)
	t.Setenv("NATS_NKEY", seedFile)
	out, code, msg := runCLI(t, "status")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, msg)
	}
	if !strings.Contains(out, "backing off: extract-weather 1 message, PostgreSQL unreachable since ") {
		t.Fatalf("status with NATS_NKEY does not show what extract-weather is backing off on:\n%s", out)
	}
}
