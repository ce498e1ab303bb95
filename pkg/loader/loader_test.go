package loader_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/loader"
	"github.com/paddock-f1/paddock/pkg/natsrv"
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
	srv, err := natsrv.Start(natsrv.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := srv.Connect("loader-test")
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
		if _, err := js.Publish(ctx, streams.SessionGap(key), streams.Encode(g)); err != nil {
			t.Fatal(err)
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
