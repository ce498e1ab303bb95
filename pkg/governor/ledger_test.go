package governor_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/standin"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/streams"
)

// TestDifferentLimitsNeverOverrunTheFirst: two processes (two governors on
// one JetStream) started with different limits for one host. The ledger
// keeps the first one's limit, so an upstream enforcing that limit never
// sees more calls in a window than it allows.
func TestDifferentLimitsNeverOverrunTheFirst(t *testing.T) {
	js, stop := jetStream(t, t.TempDir())
	defer stop()
	const calls, window = 5, time.Second
	up, err := standin.New(testenv.Recorded(t))
	if err != nil {
		t.Fatal(err)
	}
	up.Limit(host, calls, window)
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	defer up.Close()

	first, err := governor.New(context.Background(), js, config(calls, window), nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := governor.New(context.Background(), js, config(calls+3, window), nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(g *governor.Governor) {
			defer wg.Done()
			if err := g.Acquire(context.Background(), host); err != nil {
				t.Error(err)
				return
			}
			resp, err := http.Get(up.URL() + "/" + host + "/call")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}([]*governor.Governor{first, second}[i%2])
	}
	wg.Wait()
	if n := up.MaxInWindow(host, window); n > calls || up.Violations() != 0 {
		t.Fatalf("the upstream saw %d calls within %s (limit %d, %d refused)", n, window, calls, up.Violations())
	}
}

// TestLaterProcessWarnsAndUsesTheLedgers: the first governor's limits
// (calls, window and minimum interval) are the ledger's; a second one
// configured otherwise logs both and uses the ledger's, without
// rewriting it.
func TestLaterProcessWarnsAndUsesTheLedgers(t *testing.T) {
	js, stop := jetStream(t, t.TempDir())
	defer stop()
	ctx := context.Background()
	first := governor.Config{Window: time.Second, Limits: map[string]governor.Limit{host: {PerWindow: 5, MinInterval: 150 * time.Millisecond}}}
	if _, err := governor.New(ctx, js, first, nil); err != nil {
		t.Fatal(err)
	}
	var logs testenv.Output
	second := governor.Config{Window: time.Hour, Limits: map[string]governor.Limit{host: {PerWindow: 8}},
		Log: slog.New(slog.NewTextHandler(&logs, nil))}
	g, err := governor.New(ctx, js, second, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"level=WARN", "host=" + host, `configured="8 calls per 1h0m0s, 0s apart"`, `ledger="5 calls per 1s, 150ms apart"`} {
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("the warning lacks %s:\n%s", want, logs.String())
		}
	}
	if l := g.Limit(host); l.PerWindow != 5 || l.MinInterval != 150*time.Millisecond {
		t.Fatalf("the second governor uses %+v, the ledger holds 5 calls 150ms apart", l)
	}
	st, err := g.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].MaxCalls != 5 || st[0].Window != "1s" || st[0].MinInterval != "150ms" {
		t.Fatalf("status = %+v", st[0])
	}
	t0 := time.Now()
	for i := 0; i < 3; i++ {
		if err := g.Acquire(ctx, host); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(t0); took < 300*time.Millisecond {
		t.Fatalf("3 calls took %s, the ledger spaces them 150ms apart", took)
	}
	s, err := js.Stream(ctx, streams.QuotaStream(streams.QuotaSlug(host)))
	if err != nil {
		t.Fatal(err)
	}
	if per, window, interval, _ := streams.LedgerLimits(s.CachedInfo().Config); per != 5 || window != time.Second || interval != 150*time.Millisecond {
		t.Fatalf("the ledger now holds %d per %s, %s apart: a later governor rewrote it", per, window, interval)
	}
}

// TestSetLimitRewritesTheLedger: SetLimit is the one way to change a
// ledger's limits; it reports what they were, and a governor already
// running follows the new limits.
func TestSetLimitRewritesTheLedger(t *testing.T) {
	js, stop := jetStream(t, t.TempDir())
	defer stop()
	ctx := context.Background()
	running, err := governor.New(ctx, js, config(5, time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := governor.New(ctx, js, config(9, time.Minute), nil)
	if err != nil {
		t.Fatal(err)
	}
	before, existed, err := admin.SetLimit(ctx, host, governor.HostLimit{Limit: governor.Limit{PerWindow: 2, MinInterval: 10 * time.Millisecond}, Window: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !existed || before.String() != "5 calls per 1h0m0s, 0s apart" {
		t.Fatalf("before = %s (existed %v)", before, existed)
	}
	for i := 0; i < 2; i++ {
		if err := running.Acquire(ctx, host); err != nil {
			t.Fatal(err)
		}
	}
	tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := running.Acquire(tctx, host); err == nil {
		t.Fatal("a third call was allowed under a limit set to 2")
	}
	if l := running.Limit(host); l.PerWindow != 2 || l.MinInterval != 10*time.Millisecond {
		t.Fatalf("the running governor uses %+v", l)
	}
	if _, _, err := admin.SetLimit(ctx, host, governor.HostLimit{Limit: governor.Limit{PerWindow: 0}, Window: time.Hour}); err == nil {
		t.Fatal("a limit of 0 calls was written to the ledger")
	}
	_, existed, err = admin.SetLimit(ctx, "new.example.test", governor.HostLimit{Limit: governor.Limit{PerWindow: 3}, Window: time.Minute})
	if err != nil || existed {
		t.Fatalf("a new host's ledger: existed %v, %v", existed, err)
	}
}

// TestReadOnlyNeverWrites: a read-only governor ('paddock quota') creates
// no ledger and no bucket, and shows a ledger's limits, not its own.
func TestReadOnlyNeverWrites(t *testing.T) {
	js, stop := jetStream(t, t.TempDir())
	defer stop()
	ctx := context.Background()
	ro := config(7, time.Minute)
	ro.ReadOnly = true
	g, err := governor.New(ctx, js, ro, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := g.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].Ledger || st[0].MaxCalls != 7 {
		t.Fatalf("status without a ledger = %+v", st[0])
	}
	for name := range js.StreamNames(ctx).Name() {
		t.Fatalf("a read-only governor created stream %s", name)
	}
	if _, err := governor.New(ctx, js, config(5, time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	g, err = governor.New(ctx, js, ro, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, err = g.Status(ctx); err != nil || !st[0].Ledger || st[0].MaxCalls != 5 || st[0].Window != "1h0m0s" {
		t.Fatalf("status of a ledger = %+v, %v", st, err)
	}
	s, _ := js.Stream(ctx, streams.QuotaStream(streams.QuotaSlug(host)))
	if per, window, _, _ := streams.LedgerLimits(s.CachedInfo().Config); per != 5 || window != time.Hour {
		t.Fatalf("the ledger holds %d per %s after a read-only look", per, window)
	}
}
