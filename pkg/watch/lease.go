package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// LeaseBucket is the key-value bucket holding the watchers' lease: one
// key whose bucket TTL is the lease's length.
const LeaseBucket = "WATCH_LEASE"

// leaseKey is the one key of LeaseBucket.
const leaseKey = "leader"

// DefaultLeaseTTL is how long a lease stands without renewal: a dead
// holder's lease is taken over within it.
const DefaultLeaseTTL = 30 * time.Second

// Lease is the right to act among several watchers. It is a key in
// LeaseBucket, created only if absent (so one watcher holds it at a time)
// and renewed with a compare-and-set on its revision while its holder
// lives; the bucket's TTL (a stream MaxAge, which nats-server 2.9 has)
// removes it when the holder stops renewing, and another watcher creates
// it anew. A holder that cannot renew stops counting itself the holder
// once the TTL, reckoned from its last successful renewal, has passed.
// Safe for concurrent use.
type Lease struct {
	kv     jetstream.KeyValue
	holder string
	ttl    time.Duration

	mu    sync.Mutex
	rev   uint64    // the revision written last; 0 = not held
	until time.Time // held (by this process's reckoning) until then
}

// holding is the lease key's value.
type holding struct {
	Holder  string    `json:"holder"`
	Renewed time.Time `json:"renewed"`
}

// OpenLease opens (creating when missing) LeaseBucket for holder. The
// first process to create the bucket fixes its TTL (ttl, or
// DefaultLeaseTTL when 0); every other uses the bucket's.
func OpenLease(ctx context.Context, js jetstream.JetStream, holder string, ttl time.Duration, replicas int) (*Lease, error) {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	kv, err := js.KeyValue(ctx, LeaseBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: LeaseBucket, TTL: ttl, History: 1,
			Description: "the watcher that plans the current season (paddock watch)", Replicas: max(replicas, 1)})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, LeaseBucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("watch: open the lease bucket %s: %w", LeaseBucket, err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch: read the lease bucket %s: %w", LeaseBucket, err)
	}
	if st.TTL() <= 0 {
		return nil, fmt.Errorf("watch: the lease bucket %s has no TTL, so a dead holder would keep it forever: delete the bucket (nats kv del %s) and start the watchers again", LeaseBucket, LeaseBucket)
	}
	return &Lease{kv: kv, holder: holder, ttl: st.TTL()}, nil
}

// TTL is the lease's length, as the bucket has it.
func (l *Lease) TTL() time.Duration { return l.ttl }

// Hold takes the lease when it is free, or renews it when this holder has
// it. It reports whether this holder has it now. An error (NATS
// unreachable) leaves a held lease held until its TTL runs out.
func (l *Lease) Hold(ctx context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sent := time.Now() // the server's TTL runs from after this
	val, _ := json.Marshal(holding{Holder: l.holder, Renewed: sent.UTC()})
	if l.rev != 0 {
		rev, err := l.kv.Update(ctx, leaseKey, val, l.rev)
		if err == nil {
			l.rev, l.until = rev, sent.Add(l.ttl)
			return true, nil
		}
		if !isWrongRevision(err) {
			return l.heldLocked(), fmt.Errorf("watch: renew the lease: %w", err)
		}
		// Expired and taken (or expired and gone): try to take it anew.
		l.rev = 0
	}
	rev, err := l.kv.Create(ctx, leaseKey, val)
	if errors.Is(err, jetstream.ErrKeyExists) || isWrongRevision(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("watch: take the lease: %w", err)
	}
	l.rev, l.until = rev, sent.Add(l.ttl)
	return true, nil
}

// Held reports whether this holder has the lease, by its own reckoning:
// taken or renewed less than the TTL ago.
func (l *Lease) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.heldLocked()
}

func (l *Lease) heldLocked() bool { return l.rev != 0 && time.Now().Before(l.until) }

// Holder names whoever holds the lease now ("" when nobody does).
func (l *Lease) Holder(ctx context.Context) (string, error) {
	e, err := l.kv.Get(ctx, leaseKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("watch: read the lease: %w", err)
	}
	var h holding
	if err := json.Unmarshal(e.Value(), &h); err != nil {
		return "", fmt.Errorf("watch: the lease holds %q: %w", e.Value(), err)
	}
	return h.Holder, nil
}

// Release gives the lease up at once (on a clean stop) so another watcher
// need not wait for the TTL. It does nothing when this holder lacks it.
func (l *Lease) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rev == 0 {
		return nil
	}
	err := l.kv.Delete(ctx, leaseKey, jetstream.LastRevision(l.rev))
	l.rev = 0
	if err != nil && !isWrongRevision(err) {
		return fmt.Errorf("watch: release the lease: %w", err)
	}
	return nil
}

// isWrongRevision reports a compare-and-set that lost: the key is not at
// the revision written.
func isWrongRevision(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
