// Package governor spends the upstream quota as if it were money. Every
// real HTTP request first takes a slot in its host's ledger, a JetStream
// stream holding one message per call with MaxAge = the window and
// MaxMsgs = the host's calls per window under DiscardNew: a full window
// refuses the next call atomically on the server, so the count survives
// restarts and holds across loaders started by mistake. A per-host
// minimum interval spaces calls, and a host that answered 429/503 with
// Retry-After is paused (in a key-value bucket, also shared) until then.
//
// The limits live with the ledger: the first process to create a host's
// ledger writes its limits there (calls per window, the window and the
// minimum interval), and every process reads them there. A process
// configured with other limits warns and uses the ledger's; only SetLimit
// ('paddock quota --set') rewrites them.
package governor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/paddock-f1/paddock/pkg/metrics"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/time/rate"

	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// Limit is one host's quota.
type Limit struct {
	PerWindow   int           // calls within one window; 0 = unlimited (no ledger)
	MinInterval time.Duration // spacing between calls of this process; 0 = none
}

// Config configures the governor.
type Config struct {
	// Window is the sliding window the limits count in; one hour by default.
	Window time.Duration
	// Limits per host; hosts not listed get Default.
	Limits  map[string]Limit
	Default Limit
	// Replicas of the ledgers and the pause bucket on a JetStream
	// cluster; 0 = 1. paddock's streams use the same number.
	Replicas int
	// Log receives the warning about limits that differ from a ledger's;
	// nil = slog.Default().
	Log *slog.Logger
	// ReadOnly governors only read: they create no ledger and no pause
	// bucket and change none ('paddock quota'); a host without a ledger
	// shows the configured limits. SetLimit still writes.
	ReadOnly bool
}

// HostLimit is one host's quota as its ledger keeps it: the limit and
// the window it counts in.
type HostLimit struct {
	Limit
	Window time.Duration
}

// String reads "500 calls per 1h0m0s, 250ms apart" ("unlimited" for a
// limit of 0 calls).
func (l HostLimit) String() string {
	if l.PerWindow <= 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%d calls per %s, %s apart", l.PerWindow, l.Window, l.MinInterval)
}

// DefaultConfig is paddock's quota: 500 calls an hour and 4 a second for
// F1's archive, its mirror, MultiViewer and GitHub; Jolpica's 200 an hour.
func DefaultConfig() Config {
	polite := 250 * time.Millisecond
	return Config{
		Window: time.Hour,
		Limits: map[string]Limit{
			upstream.LiveTiming:  {PerWindow: 500, MinInterval: polite},
			upstream.Mirror:      {PerWindow: 500, MinInterval: polite},
			upstream.Jolpica:     {PerWindow: 200, MinInterval: polite},
			upstream.MultiViewer: {PerWindow: 500, MinInterval: polite},
			upstream.GitHubRaw:   {PerWindow: 500, MinInterval: polite},
		},
		Default: Limit{PerWindow: 500, MinInterval: polite},
	}
}

// Pause describes a wait the governor imposes on a host.
type Pause struct {
	Host   string
	Until  time.Time
	Reason string // "quota" (the window is full) or "retry-after"
}

// Governor gates upstream calls. It is safe for concurrent use and
// implements upstream.Gate.
type Governor struct {
	js      jetstream.JetStream
	cfg     Config
	pauses  jetstream.KeyValue
	onPause func(ctx context.Context, p Pause)

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	ledgers  map[string]jetstream.Stream // nil: an unlimited host without a ledger
	limits   map[string]HostLimit        // as the ledgers have them
	observed map[string]time.Time        // when each ledger was last read (observe)
}

// New binds the governor to JetStream, creating each configured host's
// ledger that does not exist yet (with cfg's limits) and the pause
// bucket; an existing ledger keeps its limits, and a cfg that differs
// from them is logged as a warning. onPause, when not nil, is told of
// every pause before the governor waits it out.
func New(ctx context.Context, js jetstream.JetStream, cfg Config, onPause func(ctx context.Context, p Pause)) (*Governor, error) {
	if cfg.Window <= 0 {
		cfg.Window = time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	var kv jetstream.KeyValue
	var err error
	if cfg.ReadOnly {
		kv, err = js.KeyValue(ctx, streams.QuotaPauses)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			kv, err = nil, nil // no host was ever paused
		}
	} else {
		kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: streams.QuotaPauses, Description: "upstream hosts paused by Retry-After", Replicas: max(cfg.Replicas, 1)})
	}
	if err != nil {
		return nil, fmt.Errorf("governor: pause bucket: %w", err)
	}
	g := &Governor{js: js, cfg: cfg, pauses: kv, onPause: onPause,
		limiters: map[string]*rate.Limiter{}, ledgers: map[string]jetstream.Stream{}, limits: map[string]HostLimit{},
		observed: map[string]time.Time{}}
	for host := range cfg.Limits {
		if _, err := g.ledger(ctx, host); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// Limit returns the quota of host: its ledger's once the ledger has been
// read, the configured one before.
func (g *Governor) Limit(host string) Limit {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limitLocked(host).Limit
}

// limitLocked is Limit with its window; g.mu is held.
func (g *Governor) limitLocked(host string) HostLimit {
	if l, ok := g.limits[host]; ok {
		return l
	}
	return g.configured(host)
}

// configured is host's limit in this process's configuration.
func (g *Governor) configured(host string) HostLimit {
	if l, ok := g.cfg.Limits[host]; ok {
		return HostLimit{Limit: l, Window: g.cfg.Window}
	}
	return HostLimit{Limit: g.cfg.Default, Window: g.cfg.Window}
}

// Window is the length of the sliding window this process was configured
// with; a host's ledger may keep another (HostStatus.Window, Limit).
func (g *Governor) Window() time.Duration { return g.cfg.Window }

// ledger returns host's ledger stream: the existing one with its limits,
// or a new one with the configured limits. It returns nil for a host
// configured unlimited that has no ledger.
func (g *Governor) ledger(ctx context.Context, host string) (jetstream.Stream, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s, ok := g.ledgers[host]; ok {
		return s, nil
	}
	want := g.configured(host)
	name := streams.QuotaStream(streams.QuotaSlug(host))
	s, err := g.js.Stream(ctx, name)
	switch {
	case err == nil:
		if s, err = g.keepReplicas(ctx, host, s); err != nil {
			return nil, err
		}
	case errors.Is(err, jetstream.ErrStreamNotFound) && g.cfg.ReadOnly:
		return nil, nil // shown with the configured limits; asked again next time
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if want.PerWindow <= 0 {
			g.ledgers[host] = nil
			g.limits[host] = want
			g.setLimiter(host, want.MinInterval)
			return nil, nil
		}
		cfg, err := streams.QuotaLedger(host, want.PerWindow, want.Window, want.MinInterval)
		if err != nil {
			return nil, err
		}
		if g.cfg.Replicas > 0 {
			cfg.Replicas = g.cfg.Replicas
		}
		s, err = g.js.CreateStream(ctx, cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // another process created it first
			s, err = g.js.Stream(ctx, name)
		}
		if err != nil {
			return nil, fmt.Errorf("governor: create the ledger of %s: %w", host, err)
		}
	default:
		return nil, fmt.Errorf("governor: ledger of %s: %w", host, err)
	}
	have := g.adopt(host, s.CachedInfo().Config)
	if differs(want, have) {
		g.cfg.Log.Warn("quota limits differ from the ledger's; using the ledger's (change them with 'paddock quota --set')",
			"host", host, "configured", want.String(), "ledger", have.String())
	}
	g.ledgers[host] = s
	return s, nil
}

// keepReplicas moves an existing ledger to the configured replicas
// (PADDOCK_STREAM_REPLICAS), leaving its limits alone.
func (g *Governor) keepReplicas(ctx context.Context, host string, s jetstream.Stream) (jetstream.Stream, error) {
	cfg := s.CachedInfo().Config
	if g.cfg.ReadOnly || g.cfg.Replicas <= 0 || cfg.Replicas == g.cfg.Replicas {
		return s, nil
	}
	cfg.Replicas = g.cfg.Replicas
	s, err := g.js.UpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("governor: ledger of %s to %d replicas: %w", host, cfg.Replicas, err)
	}
	return s, nil
}

// differs reports whether a configured limit is not the ledger's.
func differs(want, have HostLimit) bool {
	if want.PerWindow <= 0 || have.PerWindow <= 0 {
		return (want.PerWindow <= 0) != (have.PerWindow <= 0)
	}
	return want != have
}

// adopt makes the limits kept in a ledger's stream configuration host's,
// spacing calls by its minimum interval; g.mu is held. A ledger that
// records no interval keeps the configured one.
func (g *Governor) adopt(host string, cfg jetstream.StreamConfig) HostLimit {
	per, window, interval, ok := streams.LedgerLimits(cfg)
	if !ok {
		interval = g.configured(host).MinInterval
	}
	l := HostLimit{Limit: Limit{PerWindow: per, MinInterval: interval}, Window: window}
	if old, had := g.limits[host]; !had || old.MinInterval != l.MinInterval {
		g.setLimiter(host, l.MinInterval)
	}
	g.limits[host] = l
	return l
}

// setLimiter spaces this process's calls to host by interval (0: none);
// g.mu is held.
func (g *Governor) setLimiter(host string, interval time.Duration) {
	if interval > 0 {
		g.limiters[host] = rate.NewLimiter(rate.Every(interval), 1)
	} else {
		delete(g.limiters, host)
	}
}

// Ledger returns host's limits as its ledger keeps them; ok is false when
// host has no ledger (l is then the configured limit).
func (g *Governor) Ledger(ctx context.Context, host string) (l HostLimit, ok bool, err error) {
	s, err := g.ledger(ctx, host)
	if err != nil {
		return HostLimit{}, false, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limitLocked(host), s != nil, nil
}

// SetLimit rewrites host's limits in its ledger, creating the ledger when
// there is none, and returns the limits it had (existed is false when
// there was no ledger). It is the only way limits change once a ledger
// exists ('paddock quota --set'); processes running pick up the new calls
// per window at once, and the window and interval at their next call.
func (g *Governor) SetLimit(ctx context.Context, host string, l HostLimit) (before HostLimit, existed bool, err error) {
	if l.PerWindow < 1 || l.Window <= 0 || l.MinInterval < 0 {
		return HostLimit{}, false, fmt.Errorf("governor: limit of %s: want at least 1 call per window, a window over 0 and an interval of 0 or more, not %s", host, l)
	}
	cfg, err := streams.QuotaLedger(host, l.PerWindow, l.Window, l.MinInterval)
	if err != nil {
		return HostLimit{}, false, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var s jetstream.Stream
	cur, err := g.js.Stream(ctx, cfg.Name)
	switch {
	case err == nil:
		existed = true
		before = g.adopt(host, cur.CachedInfo().Config)
		cfg.Replicas = cur.CachedInfo().Config.Replicas
		s, err = g.js.UpdateStream(ctx, cfg)
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if g.cfg.Replicas > 0 {
			cfg.Replicas = g.cfg.Replicas
		}
		s, err = g.js.CreateStream(ctx, cfg)
	}
	if err != nil {
		return before, existed, fmt.Errorf("governor: set the limits of %s: %w", host, err)
	}
	g.adopt(host, s.CachedInfo().Config)
	g.ledgers[host] = s
	return before, existed, nil
}

// Acquire waits until host may be called and records the call in its
// ledger. It returns only when the call is allowed or ctx ends. Every
// successful Acquire is one slot of the window spent.
func (g *Governor) Acquire(ctx context.Context, host string) error {
	s, err := g.ledger(ctx, host)
	if err != nil {
		return err
	}
	if err := g.waitPause(ctx, host); err != nil {
		return err
	}
	g.mu.Lock()
	lim := g.limiters[host]
	g.mu.Unlock()
	if lim != nil {
		if err := lim.Wait(ctx); err != nil {
			return err
		}
	}
	if s == nil {
		return nil // unlimited host
	}
	subj := streams.QuotaSubject(streams.QuotaSlug(host))
	announced := false
	for {
		_, err := g.js.Publish(ctx, subj, nil)
		if err == nil {
			g.observe(ctx, host, s)
			return nil
		}
		if !isFull(err) {
			return fmt.Errorf("governor: record call to %s: %w", host, err)
		}
		reset, _, err := g.freeAt(ctx, s, 1)
		if err != nil {
			return err
		}
		if err := g.wait(ctx, Pause{Host: host, Until: reset, Reason: "quota"}, !announced); err != nil {
			return err
		}
		announced = true
	}
}

// observeEvery is how often a host's ledger is read after a call: a
// limit rewritten by 'paddock quota --set' is picked up within it (the
// ledger itself enforces its window at once).
const observeEvery = time.Second

// observe sets the quota gauges of host from its ledger and picks up
// limits rewritten since, at most every observeEvery (best effort: a
// ledger that cannot be read leaves them as they were).
func (g *Governor) observe(ctx context.Context, host string, s jetstream.Stream) {
	g.mu.Lock()
	due := time.Since(g.observed[host]) >= observeEvery
	if due {
		g.observed[host] = time.Now()
	}
	g.mu.Unlock()
	if !due {
		return
	}
	info, err := s.Info(ctx)
	if err != nil {
		return
	}
	g.mu.Lock()
	g.adopt(host, info.Config)
	g.mu.Unlock()
	metrics.QuotaUsed.WithLabelValues(host).Set(float64(info.State.Msgs))
	metrics.QuotaLimit.WithLabelValues(host).Set(float64(info.Config.MaxMsgs))
}

// isFull reports the ledger's refusal of a call: the window is full.
func isFull(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == 10077 // JSStreamStoreFailedF: maximum messages exceeded
}

// expiryMargin covers the server's expiry timer: a slot is reused only a
// little after its message's age passes the window.
const expiryMargin = 250 * time.Millisecond

// expiryPoll is how long to wait when a slot's message is past its age
// but the server has not removed it yet.
const expiryPoll = 50 * time.Millisecond

// freeAt returns when n more calls fit in s's window: when its n-th
// oldest message ages out; ok is true when they fit now.
func (g *Governor) freeAt(ctx context.Context, s jetstream.Stream, n int) (at time.Time, ok bool, err error) {
	info, err := s.Info(ctx)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("governor: ledger state: %w", err)
	}
	free := int(info.Config.MaxMsgs) - int(info.State.Msgs)
	if free >= n {
		return time.Now(), true, nil
	}
	need := n - free // the need-th oldest must expire
	if need > int(info.State.Msgs) {
		need = int(info.State.Msgs)
	}
	seq := info.State.FirstSeq + uint64(need) - 1
	at = time.Now().Add(expiryPoll) // expired between Info and GetMsg, or not yet removed
	if m, err := s.GetMsg(ctx, seq); err == nil {
		at = later(m.Time.Add(info.Config.MaxAge+expiryMargin), at)
	}
	return at, false, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Reserve waits until calls more calls of host fit in the window, so a
// session is not paused halfway through its load. It spends nothing.
func (g *Governor) Reserve(ctx context.Context, host string, calls int) error {
	s, err := g.ledger(ctx, host)
	if err != nil || s == nil || calls <= 0 {
		return err
	}
	if per := g.Limit(host).PerWindow; calls > per {
		calls = per // more than a window holds: take it call by call
	}
	announced := false
	for {
		at, ok, err := g.freeAt(ctx, s, calls)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if err := g.wait(ctx, Pause{Host: host, Until: at, Reason: "quota"}, !announced); err != nil {
			return err
		}
		announced = true
	}
}

// PauseHost records that host asked for a pause until until (a 429 or 503
// with Retry-After); every Acquire for host waits until then.
func (g *Governor) PauseHost(ctx context.Context, host string, until time.Time) error {
	if g.pauses == nil {
		return fmt.Errorf("governor: pause %s: a read-only governor records no pause", host)
	}
	if _, err := g.pauses.Put(ctx, streams.QuotaSlug(host), []byte(until.UTC().Format(time.RFC3339Nano))); err != nil {
		return fmt.Errorf("governor: pause %s: %w", host, err)
	}
	return nil
}

// pausedUntil returns the recorded pause of host (zero when none).
func (g *Governor) pausedUntil(ctx context.Context, host string) (time.Time, error) {
	if g.pauses == nil {
		return time.Time{}, nil
	}
	e, err := g.pauses.Get(ctx, streams.QuotaSlug(host))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("governor: read pause of %s: %w", host, err)
	}
	t, err := time.Parse(time.RFC3339Nano, string(e.Value()))
	if err != nil {
		return time.Time{}, nil
	}
	return t, nil
}

func (g *Governor) waitPause(ctx context.Context, host string) error {
	until, err := g.pausedUntil(ctx, host)
	if err != nil {
		return err
	}
	if until.After(time.Now()) {
		return g.wait(ctx, Pause{Host: host, Until: until, Reason: "retry-after"}, true)
	}
	return nil
}

// wait sleeps until p.Until or ctx ends, announcing p first when asked:
// one announcement per pause, however many polls it takes.
func (g *Governor) wait(ctx context.Context, p Pause, announce bool) error {
	if announce {
		metrics.Pauses.WithLabelValues(p.Host, p.Reason).Inc()
		metrics.PausedSeconds.WithLabelValues(p.Host).Add(max(time.Until(p.Until).Seconds(), 0))
		if g.onPause != nil {
			g.onPause(ctx, p)
		}
	}
	t := time.NewTimer(time.Until(p.Until))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Quota states.
const (
	StatusOK       = "OK"       // under 75% of the window used
	StatusWarning  = "WARNING"  // 75% or more used
	StatusExceeded = "EXCEEDED" // full: the next call waits
)

// HostStatus is one host's quota as the ledger has it now.
type HostStatus struct {
	Host        string     `json:"host"`
	CallsMade   int        `json:"calls_made"`
	MaxCalls    int        `json:"max_calls"`
	Remaining   int        `json:"remaining"`
	NextReset   *time.Time `json:"next_reset"` // when the oldest call leaves the window; nil when none is in it
	Status      string     `json:"status"`
	PausedUntil *time.Time `json:"paused_until,omitempty"`
	Window      string     `json:"window"`       // the ledger's window
	MinInterval string     `json:"min_interval"` // the ledger's spacing between calls
	// Ledger is false for a host without a ledger yet: the limits shown
	// are then the configuration's, which the first loader writes.
	Ledger bool `json:"ledger"`
}

// Status reads every configured host's quota from the persisted ledgers,
// their limits included; it needs no running loader. Reading creates the
// ledger of a host that has none (with the configured limits) and never
// changes an existing one.
func (g *Governor) Status(ctx context.Context) ([]HostStatus, error) {
	hosts := make([]string, 0, len(g.cfg.Limits))
	for h := range g.cfg.Limits {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	var out []HostStatus
	for _, h := range hosts {
		s, err := g.ledger(ctx, h)
		if err != nil {
			return nil, err
		}
		g.mu.Lock()
		l := g.limitLocked(h)
		g.mu.Unlock()
		st := HostStatus{Host: h, MaxCalls: l.PerWindow, MinInterval: l.MinInterval.String(), Window: l.Window.String(), Ledger: s != nil}
		if s != nil {
			info, err := s.Info(ctx)
			if err != nil {
				return nil, fmt.Errorf("governor: ledger of %s: %w", h, err)
			}
			st.CallsMade = int(info.State.Msgs)
			if st.CallsMade > 0 {
				reset := info.State.FirstTime.Add(info.Config.MaxAge)
				st.NextReset = &reset
			}
		}
		st.Remaining = max(st.MaxCalls-st.CallsMade, 0)
		switch {
		case st.MaxCalls > 0 && st.CallsMade >= st.MaxCalls:
			st.Status = StatusExceeded
		case st.MaxCalls > 0 && st.CallsMade*4 >= st.MaxCalls*3:
			st.Status = StatusWarning
		default:
			st.Status = StatusOK
		}
		if until, err := g.pausedUntil(ctx, h); err == nil && until.After(time.Now()) {
			st.PausedUntil = &until
			st.Status = StatusExceeded
		}
		out = append(out, st)
	}
	return out, nil
}

// Remaining returns how many calls host may make now.
func (g *Governor) Remaining(ctx context.Context, host string) (int, error) {
	s, err := g.ledger(ctx, host)
	if err != nil {
		return 0, err
	}
	if s == nil {
		return int(^uint(0) >> 1), nil
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("governor: ledger of %s: %w", host, err)
	}
	return max(int(info.Config.MaxMsgs)-int(info.State.Msgs), 0), nil
}
