package consume

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/metrics"
	"github.com/paddock-f1/paddock/streams"
)

// backoffs tracks the messages one consumer of this process is backing
// off on: the gauges paddock_backing_off_messages and
// paddock_backing_off_since_seconds, and this instance's entry in the
// BACKOFF bucket that 'paddock status' reads (written at most every
// reportEvery while it changes, and when it empties).
type backoffs struct {
	consumer string
	js       jetstream.JetStream
	log      *slog.Logger
	instance string

	mu       sync.Mutex
	failing  map[uint64]failure // stream sequence -> first failure
	reported time.Time
	logged   time.Time
	kv       jetstream.KeyValue
}

type failure struct {
	since  time.Time
	reason string
}

const (
	reportEvery = 5 * time.Second
	logEvery    = time.Minute
	// forgetAfter drops a message not seen failing for this long: another
	// instance took it, or it was settled elsewhere.
	forgetAfter = time.Hour
)

func newBackoffs(consumer string, js jetstream.JetStream, log *slog.Logger) *backoffs {
	return &backoffs{consumer: consumer, js: js, log: log, instance: instanceID(), failing: map[uint64]failure{}}
}

// since is when seq first failed here; zero when it did not.
func (b *backoffs) since(seq uint64) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failing[seq].since
}

// failed records a failed delivery of seq.
func (b *backoffs) failed(ctx context.Context, seq uint64, reason string, err error) {
	b.mu.Lock()
	f, ok := b.failing[seq]
	if !ok {
		f.since = time.Now()
	}
	f.reason = reason
	b.failing[seq] = f
	b.update(ctx, !ok && len(b.failing) == 1, err)
	b.mu.Unlock()
}

// done records that seq was settled (acked or dead-lettered).
func (b *backoffs) done(ctx context.Context, seq uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.failing[seq]; !ok {
		return
	}
	delete(b.failing, seq)
	b.update(ctx, len(b.failing) == 0, nil)
}

// clear withdraws this instance's report (at shutdown).
func (b *backoffs) clear(ctx context.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failing = map[uint64]failure{}
	b.update(ctx, true, nil)
}

// update sets the gauges and, when due or now, the bucket entry. b.mu is held.
func (b *backoffs) update(ctx context.Context, now bool, err error) {
	var oldest failure
	for seq, f := range b.failing {
		if time.Since(f.since) > forgetAfter && seq != 0 {
			delete(b.failing, seq)
			continue
		}
		if oldest.since.IsZero() || f.since.Before(oldest.since) {
			oldest = f
		}
	}
	n := len(b.failing)
	metrics.BackingOff.WithLabelValues(b.consumer).Set(float64(n))
	since := 0.0
	if n > 0 {
		since = float64(oldest.since.UnixMilli()) / 1000
	}
	metrics.BackingOffSince.WithLabelValues(b.consumer).Set(since)
	if n > 0 && err != nil && time.Since(b.logged) >= logEvery {
		b.logged = time.Now()
		b.log.Warn("backing off", "consumer", b.consumer, "messages", n, "reason", oldest.reason,
			"since", oldest.since.UTC().Format(time.RFC3339), "err", err)
	}
	if b.js == nil || b.consumer == "" || (!now && time.Since(b.reported) < reportEvery) {
		return
	}
	b.reported = time.Now()
	if b.kv == nil {
		kv, kerr := b.js.KeyValue(ctx, streams.BackoffBucket)
		if kerr != nil {
			return // NATS is down too, or the topology predates the bucket: the gauges still say it
		}
		b.kv = kv
	}
	kctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	key := b.consumer + "." + b.instance
	if n == 0 {
		_ = b.kv.Delete(kctx, key)
		return
	}
	r := streams.Backoff{Consumer: b.consumer, Messages: n, Reason: oldest.reason, Since: oldest.since.UTC(),
		Updated: time.Now().UTC(), Instance: b.instance}
	if err != nil {
		r.Error = truncate(err.Error(), 300)
	}
	v, _ := json.Marshal(r)
	if _, perr := b.kv.Put(kctx, key, v); perr != nil {
		b.log.Debug("consume: report backoff", "consumer", b.consumer, "err", perr)
	}
}

// instanceID names this consumer instance in the bucket.
func instanceID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
