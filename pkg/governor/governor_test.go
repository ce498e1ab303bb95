package governor_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/natsrv"
)

func jetStream(t testing.TB, dir string) (jetstream.JetStream, func()) {
	t.Helper()
	srv, err := natsrv.Start(natsrv.Options{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := srv.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js, func() { nc.Close(); srv.Shutdown() }
}

const host = "example.test"

func config(perWindow int, window time.Duration) governor.Config {
	return governor.Config{Window: window, Limits: map[string]governor.Limit{host: {PerWindow: perWindow}}}
}

// TestWindowIsNeverExceeded: 12 calls under a limit of 5 per second take
// at least two window resets, and no second ever holds more than 5.
func TestWindowIsNeverExceeded(t *testing.T) {
	js, stop := jetStream(t, t.TempDir())
	defer stop()
	var pauses atomic.Int32
	g, err := governor.New(context.Background(), js, config(5, time.Second), func(context.Context, governor.Pause) { pauses.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var at []time.Time
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ { // concurrent callers share the window
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.Acquire(context.Background(), host); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			at = append(at, time.Now())
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n := maxInWindow(at, time.Second); n > 5 {
		t.Fatalf("%d calls within one window, limit 5", n)
	}
	if pauses.Load() == 0 {
		t.Fatal("no pause announced although the window filled")
	}
}

// TestTwoGovernorsShareTheWindow: two loaders started by mistake (two
// governors on one JetStream) never exceed the limit together.
func TestTwoGovernorsShareTheWindow(t *testing.T) {
	js, stop := jetStream(t, t.TempDir())
	defer stop()
	var govs []*governor.Governor
	for i := 0; i < 2; i++ {
		g, err := governor.New(context.Background(), js, config(6, time.Second), nil)
		if err != nil {
			t.Fatal(err)
		}
		govs = append(govs, g)
	}
	var mu sync.Mutex
	var at []time.Time
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(g *governor.Governor) {
			defer wg.Done()
			if err := g.Acquire(context.Background(), host); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			at = append(at, time.Now())
			mu.Unlock()
		}(govs[i%2])
	}
	wg.Wait()
	if n := maxInWindow(at, time.Second); n > 6 {
		t.Fatalf("%d calls within one window across two governors, limit 6", n)
	}
}

// TestWindowSurvivesRestart: a governor started on the same JetStream
// store continues with the calls already made.
func TestWindowSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	js, stop := jetStream(t, dir)
	g, err := governor.New(context.Background(), js, config(5, time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if err := g.Acquire(context.Background(), host); err != nil {
			t.Fatal(err)
		}
	}
	stop()

	js, stop = jetStream(t, dir)
	defer stop()
	g, err = governor.New(context.Background(), js, config(5, time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := g.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].CallsMade != 4 || st[0].Remaining != 1 || st[0].Status != governor.StatusWarning || st[0].NextReset == nil {
		t.Fatalf("status after restart = %+v", st)
	}
	if err := g.Acquire(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := g.Acquire(ctx, host); err == nil {
		t.Fatal("a sixth call within the hour was allowed")
	}
	st, _ = g.Status(context.Background())
	if st[0].Status != governor.StatusExceeded || st[0].Remaining != 0 {
		t.Fatalf("full window status = %+v", st[0])
	}
}

// TestRetryAfterPausesTheHost: after PauseHost, calls wait until then.
func TestRetryAfterPausesTheHost(t *testing.T) {
	js, stop := jetStream(t, t.TempDir())
	defer stop()
	var reasons []string
	g, err := governor.New(context.Background(), js, config(100, time.Hour), func(_ context.Context, p governor.Pause) { reasons = append(reasons, p.Reason) })
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(400 * time.Millisecond)
	if err := g.PauseHost(context.Background(), host, until); err != nil {
		t.Fatal(err)
	}
	if err := g.Acquire(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(until) || len(reasons) != 1 || reasons[0] != "retry-after" {
		t.Fatalf("Acquire returned before the pause ended (reasons %v)", reasons)
	}
}

// TestReserveWaitsForRoom: Reserve returns only once enough slots are free.
func TestReserveWaitsForRoom(t *testing.T) {
	js, stop := jetStream(t, t.TempDir())
	defer stop()
	g, err := governor.New(context.Background(), js, config(3, time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := g.Acquire(context.Background(), host); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now()
	if err := g.Reserve(context.Background(), host, 2); err != nil {
		t.Fatal(err)
	}
	if n, _ := g.Remaining(context.Background(), host); n < 2 || time.Since(t0) < 900*time.Millisecond {
		t.Fatalf("Reserve returned after %s with %d free", time.Since(t0), n)
	}
}

func maxInWindow(at []time.Time, w time.Duration) int {
	best := 0
	for i := range at {
		n := 0
		for j := range at {
			if !at[j].Before(at[i]) && at[j].Sub(at[i]) < w {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

func BenchmarkAcquire(b *testing.B) {
	js, stop := jetStream(b, b.TempDir())
	defer stop()
	g, err := governor.New(context.Background(), js, config(1<<30, time.Hour), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := g.Acquire(context.Background(), host); err != nil {
			b.Fatal(err)
		}
	}
}
