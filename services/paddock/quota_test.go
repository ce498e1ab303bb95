package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// TestQuotaReadsAndOnlySetWrites: 'paddock quota' leaves hosts without a
// ledger as they are, even when this process is configured otherwise;
// --set writes a ledger and says what it changed and from what; a later
// 'paddock quota' with other limits in its environment shows the
// ledger's.
func TestQuotaReadsAndOnlySetWrites(t *testing.T) {
	t.Setenv("NATS_URL", "")
	dir := t.TempDir()
	t.Setenv("PADDOCK_QUOTA_LIVETIMING", "7/1s")
	for i := 0; i < 2; i++ {
		out, code, msg := runCLI(t, "quota", "--data-dir", dir)
		if code != 0 || !strings.Contains(out, "livetiming.formula1.com                 0         7         7  -                    1h0m0s   1s           OK (no ledger yet") {
			t.Fatalf("paddock quota (exit %d %s):\n%s", code, msg, out)
		}
	}
	out, code, msg := runCLI(t, "quota", "--data-dir", dir, "--set", "livetiming=400")
	if code != 0 || !strings.Contains(out, "livetiming.formula1.com: ledger created with 400 calls per 1h0m0s, 1s apart (it had none)\n") {
		t.Fatalf("--set on a new ledger (exit %d %s):\n%s", code, msg, out)
	}
	out, code, msg = runCLI(t, "quota", "--data-dir", dir, "--set", "livetiming=300/250ms", "--window", "2h")
	if code != 0 || !strings.Contains(out, "livetiming.formula1.com: limits changed from 400 calls per 1h0m0s, 1s apart to 300 calls per 2h0m0s, 250ms apart\n") {
		t.Fatalf("--set on a ledger (exit %d %s):\n%s", code, msg, out)
	}
	t.Setenv("PADDOCK_QUOTA_LIVETIMING", "9/0s")
	t.Setenv("PADDOCK_QUOTA_WINDOW", "5m")
	out, code, msg = runCLI(t, "quota", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "livetiming.formula1.com                 0       300       300  -                    2h0m0s   250ms        OK\n") {
		t.Fatalf("paddock quota after --set, configured otherwise (exit %d %s):\n%s", code, msg, out)
	}
	for _, bad := range [][]string{{"--set", "livetiming=0"}, {"--set", "nowhere=5"}, {"--set", "livetiming=5/-1s"}, {"--window", "1h"}, {"--set", "jolpica=5", "--window", "0s"}} {
		if _, code, msg := runCLI(t, append([]string{"quota", "--data-dir", dir}, bad...)...); code != 2 {
			t.Fatalf("quota %v: exit %d (%s), want 2", bad, code, msg)
		}
	}
}

// TestQuotaNeverRewritesTheLedger: a ledger made with 5 calls an hour
// keeps them when 'paddock quota' runs with other limits in its
// environment, and 'paddock quota' shows the ledger's.
func TestQuotaNeverRewritesTheLedger(t *testing.T) {
	t.Setenv("NATS_URL", "")
	dir := t.TempDir()
	store := filepath.Join(dir, "jetstream")
	ledger := func(f func(js jetstream.JetStream)) {
		srv, err := natsrv.Start(natsrv.Options{StoreDir: store})
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
		f(js)
	}
	ledger(func(js jetstream.JetStream) {
		cfg := governor.Config{Window: time.Hour, Limits: map[string]governor.Limit{upstream.LiveTiming: {PerWindow: 5}}}
		if _, err := governor.New(context.Background(), js, cfg, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Setenv("PADDOCK_QUOTA_LIVETIMING", "9/0s")
	out, code, msg := runCLI(t, "quota", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "livetiming.formula1.com                 0         5         5") {
		t.Fatalf("paddock quota (exit %d %s) does not show the ledger's 5 calls:\n%s", code, msg, out)
	}
	ledger(func(js jetstream.JetStream) {
		s, err := js.Stream(context.Background(), streams.QuotaStream(streams.QuotaSlug(upstream.LiveTiming)))
		if err != nil {
			t.Fatal(err)
		}
		if n := s.CachedInfo().Config.MaxMsgs; n != 5 {
			t.Fatalf("paddock quota rewrote the ledger's limit: %d calls, was 5", n)
		}
	})
}
