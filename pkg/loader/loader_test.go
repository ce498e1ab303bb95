package loader_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/loader"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// countingArchive is the real archive, counting the Stat requests it gets.
type countingArchive struct {
	*archive.Archive
	mu    sync.Mutex
	stats map[string]int
}

func (c *countingArchive) Stat(ctx context.Context, host, path string) (*archive.Entry, error) {
	c.mu.Lock()
	c.stats[host+path]++
	c.mu.Unlock()
	return c.Archive.Stat(ctx, host, path)
}

// upstreamOK answers every path with a small JSON body.
type upstreamOK struct{}

func (upstreamOK) Get(_ context.Context, host, path string) (*upstream.Response, error) {
	return &upstream.Response{Host: host, Path: path, Origin: host, Status: http.StatusOK, Body: []byte("{}\n"), Calls: 1}, nil
}

func (u upstreamOK) GetDirect(ctx context.Context, host, path string) (*upstream.Response, error) {
	return u.Get(ctx, host, path)
}

// noQuota lets every request through.
type noQuota struct{}

func (noQuota) Reserve(context.Context, string, int) error         { return nil }
func (noQuota) PauseHost(context.Context, string, time.Time) error { return nil }

// TestSessionLoadAsksTheArchiveOncePerFeed loads a session twice, first
// from the upstream, then (forced) from the archive: the room reserved
// before the load and the load itself read each feed's archive entry
// once, not once each.
func TestSessionLoadAsksTheArchiveOncePerFeed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	js := testenv.JetStream(t)
	arc, err := archive.Open(ctx, js, streams.RawBucket)
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingArchive{Archive: arc, stats: map[string]int{}}
	l := loader.New(js, counted, upstreamOK{}, noQuota{}, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	go func() { _ = l.Run(ctx) }()

	key := streams.SessionKey{Year: 2019, Round: 14, Session: "Qualifying"}
	loaded, err := js.OrderedConsumer(ctx, streams.Loaded, jetstream.OrderedConsumerConfig{FilterSubjects: []string{streams.SessionLoaded(key)}})
	if err != nil {
		t.Fatal(err)
	}
	for i, force := range []bool{false, true} {
		g := streams.Gap{V: streams.SchemaVersion, RunID: "run-" + string(rune('a'+i)), SessionKey: key, Code: "Q",
			Path: "2019/2019-09-08_Italian_Grand_Prix/2019-09-07_Qualifying/", CircuitKey: 39,
			Kinds: []string{"weather"}, Force: force, Ended: time.Date(2019, 9, 7, 15, 0, 0, 0, time.UTC)}
		// GAPS holds one gap per session: the first load's gap leaves it
		// when the loader acknowledges it, just after its manifest.
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err := js.Publish(ctx, streams.SessionGap(key), streams.Encode(g))
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		msg, err := loaded.Next(jetstream.FetchMaxWait(30 * time.Second))
		if err != nil {
			t.Fatalf("load %d: no manifest: %v", i+1, err)
		}
		var m streams.Manifest
		if err := streams.Decode(msg.Data(), &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Feeds) == 0 {
			t.Fatalf("load %d: a manifest without feeds", i+1)
		}
	}
	counted.mu.Lock()
	defer counted.mu.Unlock()
	for name, n := range counted.stats {
		if n != 2 {
			t.Errorf("%s: %d archive lookups over two loads, want 2 (one per load)", name, n)
		}
	}
	if len(counted.stats) == 0 {
		t.Fatal("no archive lookups")
	}
}

// heldUpstream answers like upstreamOK, but holds the first request for a
// circuit layout until released, counting every request by path.
type heldUpstream struct {
	upstreamOK
	mu      sync.Mutex
	calls   map[string]int
	held    chan struct{} // closed when the first circuit request arrived
	release chan struct{}
}

func (u *heldUpstream) Get(ctx context.Context, host, path string) (*upstream.Response, error) {
	u.mu.Lock()
	u.calls[path]++
	first := strings.Contains(path, "/circuits/") && u.calls[path] == 1
	u.mu.Unlock()
	if first {
		close(u.held)
		<-u.release
	}
	return u.upstreamOK.Get(ctx, host, path)
}

func (u *heldUpstream) GetDirect(ctx context.Context, host, path string) (*upstream.Response, error) {
	return u.Get(ctx, host, path)
}

func (u *heldUpstream) count(path string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls[path]
}

// TestGapsLoadSideBySideAndAskOnce: two sessions of one weekend are loaded
// at once, and while the first waits for the upstream's answer for the
// weekend's circuit layout, the second waits for that answer instead of
// asking for it again: one request, both manifests carry the layout.
func TestGapsLoadSideBySideAndAskOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	js := testenv.JetStream(t)
	arc, err := archive.Open(ctx, js, streams.RawBucket)
	if err != nil {
		t.Fatal(err)
	}
	up := &heldUpstream{calls: map[string]int{}, held: make(chan struct{}), release: make(chan struct{})}
	l := loader.New(js, arc, up, noQuota{}, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	go func() { _ = l.Run(ctx) }()

	loaded, err := js.OrderedConsumer(ctx, streams.Loaded, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"f1.session.loaded.>"}})
	if err != nil {
		t.Fatal(err)
	}
	weekend := "2019/2019-09-08_Italian_Grand_Prix/"
	for _, s := range []struct{ name, code, dir string }{
		{"Practice 3", "FP3", "2019-09-07_Practice_3/"}, {"Qualifying", "Q", "2019-09-07_Qualifying/"},
	} {
		key := streams.SessionKey{Year: 2019, Round: 14, Session: s.name}
		g := streams.Gap{V: streams.SchemaVersion, RunID: "run", SessionKey: key, Code: s.code, Path: weekend + s.dir,
			CircuitKey: 39, Kinds: []string{"circuit"}, Ended: time.Date(2019, 9, 7, 15, 0, 0, 0, time.UTC)}
		if _, err := js.Publish(ctx, streams.SessionGap(key), streams.Encode(g)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-up.held:
	case <-ctx.Done():
		t.Fatal("no circuit layout was asked for")
	}
	// Both gaps in the loader's hands while the first request is held.
	cons, err := js.Consumer(ctx, streams.Gaps, streams.LoaderConsumer)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d gap(s) in the loader's hands while the first waited on the upstream: gaps load one at a time", info.NumAckPending)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var path string
	for p := range up.calls {
		if strings.Contains(p, "/circuits/") {
			path = p
		}
	}
	// The second load reaches the layout within milliseconds of being
	// taken; give it half a second to ask again.
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if n := up.count(path); n > 1 {
			t.Fatalf("%s asked %d times while the first answer was on its way", path, n)
		}
	}
	close(up.release)
	for i := 0; i < 2; i++ {
		msg, err := loaded.Next(jetstream.FetchMaxWait(30 * time.Second))
		if err != nil {
			t.Fatalf("manifest %d: %v", i+1, err)
		}
		var m streams.Manifest
		if err := streams.Decode(msg.Data(), &m); err != nil {
			t.Fatal(err)
		}
		ok := false
		for _, f := range m.Feeds {
			if f.Path == path && f.Status == streams.FeedOK && f.Object != "" {
				ok = true
			}
		}
		if !ok {
			t.Fatalf("%s: its manifest lacks the circuit layout: %+v", m.SessionKey, m.Feeds)
		}
	}
	if n := up.count(path); n != 1 {
		t.Fatalf("%s asked %d times for two sessions, want 1", path, n)
	}
}
