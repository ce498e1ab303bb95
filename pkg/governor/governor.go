// Package governor spends the upstream quota as if it were money. Every
// real HTTP request first takes a slot in its host's ledger, a JetStream
// stream holding one message per call with MaxAge = the window and
// MaxMsgs = the host's calls per window under DiscardNew: a full window
// refuses the next call atomically on the server, so the count survives
// restarts and holds across loaders started by mistake. A per-host
// minimum interval spaces calls, and a host that answered 429/503 with
// Retry-After is paused (in a key-value bucket, also shared) until then.
package governor

import (
	"context"
	"errors"
	"fmt"
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
	ledgers  map[string]jetstream.Stream
}

// New binds the governor to JetStream, creating or updating each
// configured host's ledger and the pause bucket. onPause, when not nil,
// is told of every pause before the governor waits it out.
func New(ctx context.Context, js jetstream.JetStream, cfg Config, onPause func(ctx context.Context, p Pause)) (*Governor, error) {
	if cfg.Window <= 0 {
		cfg.Window = time.Hour
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: streams.QuotaPauses, Description: "upstream hosts paused by Retry-After", Replicas: max(cfg.Replicas, 1)})
	if err != nil {
		return nil, fmt.Errorf("governor: pause bucket: %w", err)
	}
	g := &Governor{js: js, cfg: cfg, pauses: kv, onPause: onPause,
		limiters: map[string]*rate.Limiter{}, ledgers: map[string]jetstream.Stream{}}
	for host := range cfg.Limits {
		if _, err := g.ledger(ctx, host); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// Limit returns the quota of host.
func (g *Governor) Limit(host string) Limit {
	if l, ok := g.cfg.Limits[host]; ok {
		return l
	}
	return g.cfg.Default
}

// Window is the length of the sliding window.
func (g *Governor) Window() time.Duration { return g.cfg.Window }

// ledger returns host's ledger stream, creating it on first use.
func (g *Governor) ledger(ctx context.Context, host string) (jetstream.Stream, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s, ok := g.ledgers[host]; ok {
		return s, nil
	}
	l := g.Limit(host)
	if l.PerWindow <= 0 {
		return nil, nil
	}
	cfg, err := streams.QuotaLedger(host, l.PerWindow, g.cfg.Window)
	if err != nil {
		return nil, err
	}
	if g.cfg.Replicas > 0 {
		cfg.Replicas = g.cfg.Replicas
	}
	s, err := g.js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("governor: ledger of %s: %w", host, err)
	}
	g.ledgers[host] = s
	if l.MinInterval > 0 {
		g.limiters[host] = rate.NewLimiter(rate.Every(l.MinInterval), 1)
	}
	return s, nil
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

// observe sets the quota gauges of host from its ledger (best effort: a
// ledger that cannot be read leaves them as they were).
func (g *Governor) observe(ctx context.Context, host string, s jetstream.Stream) {
	info, err := s.Info(ctx)
	if err != nil {
		return
	}
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
		at = later(m.Time.Add(g.cfg.Window+expiryMargin), at)
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
	if calls > g.Limit(host).PerWindow {
		calls = g.Limit(host).PerWindow // more than a window holds: take it call by call
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
	if _, err := g.pauses.Put(ctx, streams.QuotaSlug(host), []byte(until.UTC().Format(time.RFC3339Nano))); err != nil {
		return fmt.Errorf("governor: pause %s: %w", host, err)
	}
	return nil
}

// pausedUntil returns the recorded pause of host (zero when none).
func (g *Governor) pausedUntil(ctx context.Context, host string) (time.Time, error) {
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
	Window      string     `json:"window"`
}

// Status reads every configured host's quota from the persisted ledgers;
// it needs no running loader.
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
		st := HostStatus{Host: h, MaxCalls: g.Limit(h).PerWindow, Window: g.cfg.Window.String()}
		if s != nil {
			info, err := s.Info(ctx)
			if err != nil {
				return nil, fmt.Errorf("governor: ledger of %s: %w", h, err)
			}
			st.CallsMade = int(info.State.Msgs)
			if st.CallsMade > 0 {
				reset := info.State.FirstTime.Add(g.cfg.Window)
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
