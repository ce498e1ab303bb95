package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/streams"
)

// TestStatusShowsWhatIsBackingOff: while an extractor retries a manifest
// through a PostgreSQL outage, status names the consumer, the messages,
// the dependency and since when (from NATS alone); once the message is
// handled the line goes away. 'status --json' carries the same under
// "nats".
func TestStatusShowsWhatIsBackingOff(t *testing.T) {
	srv, err := natsrv.Start(natsrv.Options{StoreDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := srv.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := streams.Apply(ctx, js, 0); err != nil {
		t.Fatal(err)
	}
	name := streams.ExtractorConsumer("weather")
	c, err := streams.Consumer(ctx, js, name)
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	down.Store(true)
	handled := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- consume.Run(ctx, c, func(context.Context, jetstream.Msg) error {
			if down.Load() {
				return consume.Down("postgresql", errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"))
			}
			handled <- struct{}{}
			return nil
		}, slog.New(slog.NewTextHandler(io.Discard, nil)), consume.Options{Name: name, DeadLetters: js,
			Policy: consume.Policy{First: 20 * time.Millisecond, Max: 50 * time.Millisecond}})
	}()
	if _, err := js.Publish(ctx, "f1.session.loaded.2019.14.Q", []byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	var list []backingOff
	poll(t, "the consumer reports it is backing off", func() bool {
		list, err = readBackingOff(ctx, js)
		return err == nil && len(list) == 1
	})
	var out strings.Builder
	printBackingOff(&out, list, time.Now())
	t.Logf("%s", out.String())
	if !strings.HasPrefix(out.String(), "backing off: extract-weather 1 message, PostgreSQL unreachable since ") ||
		!strings.Contains(out.String(), "connection refused") {
		t.Fatalf("status says %q", out.String())
	}
	t.Setenv("NATS_URL", srv.ClientURL())
	t.Setenv("DATABASE_URL", testenv.Database(t))
	if out, code, msg := runCLI(t, "migrate"); code != 0 {
		t.Fatalf("migrate: exit %d (%s)\n%s", code, msg, out)
	}
	js2, code, msg := runCLI(t, "status", "--json")
	var status struct {
		Runs []any      `json:"runs"`
		NATS natsHealth `json:"nats"`
	}
	if code != 0 || json.Unmarshal([]byte(js2), &status) != nil || len(status.NATS.BackingOff) != 1 ||
		status.NATS.BackingOff[0].Consumer != name || status.NATS.BackingOff[0].Messages != 1 ||
		status.NATS.BackingOff[0].Reason != "postgresql" || status.NATS.DeadLetters == nil {
		t.Fatalf("status --json: exit %d (%s)\n%s", code, msg, js2)
	}
	down.Store(false)
	<-handled
	poll(t, "the report withdrawn once the message is handled", func() bool {
		list, err = readBackingOff(ctx, js)
		return err == nil && len(list) == 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// poll checks cond every 20 ms for 10 s.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
