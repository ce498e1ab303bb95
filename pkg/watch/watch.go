// Package watch keeps the current season complete by itself: every
// interval it looks at the schedule in PostgreSQL, and each session that
// ended at least After ago and less than Within ago and still lacks a
// kind is planned (a normal plan command) at most once per Again, then its
// run is followed and logged. Several watchers may run: only the holder of
// a lease in NATS plans; another takes over within the lease's TTL when
// the holder dies. What was planned when is kept in the WATCH key-value
// bucket and the runs table, so a restart loses nothing.
package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/client"
	"github.com/paddock-f1/paddock/pkg/gaps"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/streams"
)

// Bucket is the key-value bucket of what the watchers planned: per
// session the run and when ("planned.<year>.<round>.<code>"), per season
// when its schedule was last asked for ("schedule.<year>").
const Bucket = "WATCH"

// bucketTTL is how long the records of Bucket are kept: longer than
// Within, after which a session is no longer watched.
const bucketTTL = 8 * 24 * time.Hour

// Defaults of Config.
const (
	DefaultEvery         = time.Minute
	DefaultAfter         = 30 * time.Minute // F1 publishes 30-120 minutes after a session
	DefaultWithin        = gaps.UnavailableSettle
	DefaultAgain         = gaps.UnavailableRecheck
	DefaultScheduleEvery = 24 * time.Hour
	// scheduleRetry is how often an unknown season's schedule is asked
	// for while it stays unknown.
	scheduleRetry = 10 * time.Minute
	// followFor bounds how long a planned run is followed for its log line.
	followFor = 12 * time.Hour
	// submitTimeout bounds the wait for the planner to accept a command.
	submitTimeout = 30 * time.Second
)

// Config configures a watcher; zero fields take the defaults.
type Config struct {
	// Year is the season watched; 0 = the current one (Now's year, and
	// the previous one while its last week is within Within).
	Year int
	// Kinds are the kinds planned; nil = every kind.
	Kinds []string
	// Notify plans runs that post their summaries to Slack.
	Notify bool
	// Every is the time between two looks at the schedule.
	Every time.Duration
	// After is how long after its end a session is first planned.
	After time.Duration
	// Within is how long after its end a session is still watched; older
	// sessions are 'paddock import's.
	Within time.Duration
	// Again is how soon a session planned before is planned again while
	// it is not complete (and its last run has ended).
	Again time.Duration
	// ScheduleEvery is how often a known season's schedule is loaded
	// anew, so that a changed calendar is seen.
	ScheduleEvery time.Duration
	// LeaseTTL is the lease's length for the watcher that creates the
	// lease bucket; DefaultLeaseTTL when 0.
	LeaseTTL time.Duration
	// Replicas of the buckets the watcher creates (PADDOCK_STREAM_REPLICAS).
	Replicas int
	// Name is this watcher in the lease and the records; host and process
	// id by default.
	Name string
	// Now is the clock of the schedule (tests move it); time.Now by
	// default. The lease always runs on the real clock.
	Now func() time.Time
}

// Watcher plans the sessions of the watched season as they end.
type Watcher struct {
	cfg   Config
	nc    *nats.Conn
	js    jetstream.JetStream
	pool  *pgxpool.Pool
	kv    jetstream.KeyValue
	lease *Lease
	log   *slog.Logger

	follows    sync.WaitGroup
	followCtx  context.Context // the followers' lifetime: until Close
	stopFollow context.CancelFunc
	leader     bool // as of the last look (for logging changes)
}

// New opens the lease and the record buckets (creating them when
// missing) and returns a watcher.
func New(ctx context.Context, cfg Config, nc *nats.Conn, js jetstream.JetStream, pool *pgxpool.Pool, log *slog.Logger) (*Watcher, error) {
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.After <= 0 {
		cfg.After = DefaultAfter
	}
	if cfg.Within <= 0 {
		cfg.Within = DefaultWithin
	}
	if cfg.Again <= 0 {
		cfg.Again = DefaultAgain
	}
	if cfg.ScheduleEvery <= 0 {
		cfg.ScheduleEvery = DefaultScheduleEvery
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Name == "" {
		host, _ := os.Hostname()
		cfg.Name = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), streams.NewRunID(time.Now())[16:])
	}
	if cfg.Within <= cfg.After {
		return nil, fmt.Errorf("watch: --within %s must be longer than --after %s", cfg.Within, cfg.After)
	}
	ks, err := kinds.Parse(cfg.Kinds)
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	cfg.Kinds = ks
	lease, err := OpenLease(ctx, js, cfg.Name, cfg.LeaseTTL, cfg.Replicas)
	if err != nil {
		return nil, err
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: Bucket, TTL: bucketTTL, History: 1,
		Description: "what the season watcher planned and when (paddock watch)", Replicas: max(cfg.Replicas, 1)})
	if err != nil {
		return nil, fmt.Errorf("watch: open the bucket %s: %w", Bucket, err)
	}
	fctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	return &Watcher{cfg: cfg, nc: nc, js: js, pool: pool, kv: kv, lease: lease, log: log, followCtx: fctx, stopFollow: stop}, nil
}

// Close is a clean stop: it gives the lease up, so another watcher takes
// over at once, stops following the planned runs (they carry on without
// the watcher) and waits for the followers to end.
func (w *Watcher) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.lease.Release(ctx); err != nil {
		w.log.Warn("watch: the lease is left to expire", "err", err, "ttl", w.lease.TTL())
	}
	w.stopFollow()
	w.follows.Wait()
}

// Name is the watcher's name in the lease.
func (w *Watcher) Name() string { return w.cfg.Name }

// Lease is the watcher's lease.
func (w *Watcher) Lease() *Lease { return w.lease }

// Planned is one plan a round sent.
type Planned struct {
	streams.SessionKey
	RunID string
	Ended time.Time
}

// Round is what one look did.
type Round struct {
	Leader    bool      // this watcher held the lease and acted
	Planned   []Planned // the sessions planned, each with its run
	Schedules []int     // the seasons whose schedule was asked for
}

// Run looks every Every until ctx ends, renewing the lease in between
// (at a third of its TTL). On a clean stop it gives the lease up, so
// another watcher takes over at once, and closes the watcher.
func (w *Watcher) Run(ctx context.Context) error {
	renew := min(w.cfg.Every, w.lease.TTL()/3)
	w.log.Info("watching", "year", w.describeYear(), "every", w.cfg.Every, "after", w.cfg.After, "within", w.cfg.Within,
		"again", w.cfg.Again, "lease_ttl", w.lease.TTL(), "name", w.cfg.Name, "notify", w.cfg.Notify)
	tick := time.NewTicker(renew)
	defer tick.Stop()
	var last time.Time
	for {
		if time.Since(last) >= w.cfg.Every {
			last = time.Now()
			if _, err := w.Look(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("watch: this look failed; the next one tries again", "err", err, "in", w.cfg.Every)
			}
		} else if _, err := w.lease.Hold(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("watch: lease", "err", err)
		}
		select {
		case <-ctx.Done():
			w.Close()
			return nil
		case <-tick.C:
		}
	}
}

func (w *Watcher) describeYear() string {
	if w.cfg.Year != 0 {
		return fmt.Sprint(w.cfg.Year)
	}
	return "current"
}

// Look takes or renews the lease and, holding it, plans every session due
// now: ended at least After and less than Within ago, lacking a kind, and
// not planned in the last Again (nor still importing). Seasons whose
// schedule is unknown or older than ScheduleEvery are asked for first.
// Without the lease it does nothing.
func (w *Watcher) Look(ctx context.Context) (*Round, error) {
	held, err := w.lease.Hold(ctx)
	if held != w.leader {
		w.leader = held
		if held {
			w.log.Info("watch: this watcher holds the lease and plans", "name", w.cfg.Name)
		} else {
			holder, _ := w.lease.Holder(ctx)
			w.log.Info("watch: another watcher holds the lease; standing by", "name", w.cfg.Name, "holder", holder)
		}
	}
	if !held {
		return &Round{}, err
	}
	r := &Round{Leader: true}
	now := w.cfg.Now()
	var errs []error
	for _, year := range w.years(now) {
		asked, known, err := w.schedule(ctx, year, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if asked {
			r.Schedules = append(r.Schedules, year)
		}
		if !known {
			continue
		}
		planned, err := w.planDue(ctx, year, now)
		r.Planned = append(r.Planned, planned...)
		errs = append(errs, err)
	}
	return r, errors.Join(errs...)
}

// years are the seasons watched at now.
func (w *Watcher) years(now time.Time) []int {
	if w.cfg.Year != 0 {
		return []int{w.cfg.Year}
	}
	y, first := now.UTC().Year(), now.Add(-w.cfg.Within).UTC().Year()
	if first != y {
		return []int{first, y}
	}
	return []int{y}
}

// record is a value of Bucket.
type record struct {
	RunID string    `json:"run_id,omitempty"`
	At    time.Time `json:"at"` // the watcher's clock
	By    string    `json:"by"`
}

func plannedKey(k streams.SessionKey) string {
	return fmt.Sprintf("planned.%d.%d.%s", k.Year, k.Round, k.Code())
}

func scheduleKey(year int) string { return fmt.Sprintf("schedule.%d", year) }

// get reads a record; rev 0 when there is none.
func (w *Watcher) get(ctx context.Context, key string) (*record, uint64, error) {
	e, err := w.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("watch: read %s: %w", key, err)
	}
	var rec record
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return nil, e.Revision(), nil // unreadable: as if absent, overwritten next
	}
	return &rec, e.Revision(), nil
}

// put writes rec at key if the key is still at rev (0: absent). It
// reports false when another watcher wrote it first.
func (w *Watcher) put(ctx context.Context, key string, rev uint64, rec record) (uint64, bool, error) {
	b, _ := json.Marshal(rec)
	var (
		n   uint64
		err error
	)
	if rev == 0 {
		n, err = w.kv.Create(ctx, key, b)
	} else {
		n, err = w.kv.Update(ctx, key, b, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || isWrongRevision(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("watch: write %s: %w", key, err)
	}
	return n, true, nil
}

// schedule asks the loader for year's schedule when it is unknown (at
// most every scheduleRetry) or was loaded ScheduleEvery ago: a gap on
// the schedule's GAPS subject, asking the upstream anew for a known one.
// The planner writes it to PostgreSQL; the next look plans from it.
func (w *Watcher) schedule(ctx context.Context, year int, now time.Time) (asked, known bool, err error) {
	var loaded time.Time
	err = w.pool.QueryRow(ctx, `SELECT loaded_at FROM seasons WHERE year = $1`, year).Scan(&loaded)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return false, false, fmt.Errorf("watch: the %d schedule in PostgreSQL: %w", year, err)
	default:
		known = true
	}
	rec, rev, err := w.get(ctx, scheduleKey(year))
	if err != nil {
		return false, known, err
	}
	last := loaded
	if rec != nil && rec.At.After(last) {
		last = rec.At
	}
	switch {
	case !known && (rec == nil || now.Sub(rec.At) >= scheduleRetry):
	case known && now.Sub(last) >= w.cfg.ScheduleEvery:
	default:
		return false, known, nil
	}
	if _, ok, err := w.put(ctx, scheduleKey(year), rev, record{At: now, By: w.cfg.Name}); err != nil || !ok {
		return false, known, err
	}
	runID := streams.NewRunID(now)
	g := streams.Gap{V: streams.SchemaVersion, RunID: runID, Schedule: true, SessionKey: streams.SessionKey{Year: year}, Refetch: known}
	_, err = w.js.Publish(ctx, streams.ScheduleGap(year), streams.Encode(g), jetstream.WithMsgID(streams.MsgID(runID, "schedule", year)))
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == 10077 {
		err = nil // one is queued already (GAPS keeps one per subject)
	}
	if err != nil {
		return false, known, fmt.Errorf("watch: ask for the %d schedule: %w", year, err)
	}
	w.log.Info("watch: season schedule asked for", "year", year, "known", known, "loaded_at", loaded)
	return true, known, nil
}

// planDue plans every session of year due at now.
func (w *Watcher) planDue(ctx context.Context, year int, now time.Time) ([]Planned, error) {
	plan, err := gaps.Detect(ctx, w.pool, nil, gaps.Scope{Year: year, Kinds: w.cfg.Kinds}, now)
	if err != nil {
		return nil, err
	}
	var out []Planned
	var errs []error
	for _, g := range plan.Gaps {
		age := now.Sub(g.Ended)
		if age < w.cfg.After || age >= w.cfg.Within {
			continue
		}
		// Renewed before each plan: a long look keeps the lease, and a
		// watcher that lost it (paused past its TTL) stops here.
		if held, err := w.lease.Hold(ctx); !held {
			errs = append(errs, errors.Join(errors.New("watch: the lease was lost while planning; the next look carries on"), err))
			break
		}
		p, err := w.planSession(ctx, g, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p != nil {
			out = append(out, *p)
		}
	}
	return out, errors.Join(errs...)
}

// planSession plans one session unless it was planned in the last Again
// or its last run still runs. The record is written (compare-and-set)
// before the plan is sent, so two watchers never both plan it; a plan the
// planner does not accept takes the record back.
func (w *Watcher) planSession(ctx context.Context, g streams.Gap, now time.Time) (*Planned, error) {
	key := plannedKey(g.SessionKey)
	rec, rev, err := w.get(ctx, key)
	if err != nil {
		return nil, err
	}
	if rec != nil {
		if now.Sub(rec.At) < w.cfg.Again && !rec.At.After(now) {
			return nil, nil
		}
		running, err := w.running(ctx, rec.RunID)
		if err != nil || running {
			return nil, err
		}
	}
	cmd := streams.PlanCommand{V: streams.SchemaVersion, RunID: streams.NewRunID(now), Year: g.Year, Round: &g.Round,
		Session: g.Session, Kinds: w.cfg.Kinds, Notify: w.cfg.Notify}
	newRev, ok, err := w.put(ctx, key, rev, record{RunID: cmd.RunID, At: now, By: w.cfg.Name})
	if err != nil || !ok {
		return nil, err
	}
	follow, err := client.NewWatch(ctx, w.js)
	if err == nil {
		if _, err = client.Submit(ctx, w.nc, cmd, submitTimeout); err != nil {
			follow.Close()
		}
	}
	if err != nil {
		// Not planned: take the record back so the next look tries again.
		if derr := w.kv.Delete(ctx, key, jetstream.LastRevision(newRev)); derr != nil && !isWrongRevision(derr) {
			w.log.Warn("watch: could not take the record back; the session waits for --again", "session", g.SessionKey, "err", derr)
		}
		return nil, fmt.Errorf("watch: plan %s: %w", g.SessionKey, err)
	}
	w.log.Info("watch: session planned", "session", g.SessionKey, "run_id", cmd.RunID, "ended", g.Ended, "kinds", strings.Join(g.Kinds, ","))
	w.follows.Add(1)
	go w.follow(w.followCtx, follow, cmd.RunID, g.SessionKey)
	return &Planned{SessionKey: g.SessionKey, RunID: cmd.RunID, Ended: g.Ended}, nil
}

// running reports whether runID is still running ('running' in the runs
// table). A run not there yet counts as running: its planner has not
// taken the command yet.
func (w *Watcher) running(ctx context.Context, runID string) (bool, error) {
	if runID == "" {
		return false, nil
	}
	var status string
	err := w.pool.QueryRow(ctx, `SELECT status FROM runs WHERE run_id = $1`, runID).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("watch: the state of run %s: %w", runID, err)
	}
	return status == "running", nil
}

// follow logs a planned run's end (or that it was not followed to it).
func (w *Watcher) follow(ctx context.Context, fw *client.Watch, runID string, k streams.SessionKey) {
	defer w.follows.Done()
	defer fw.Close()
	ctx, cancel := context.WithTimeout(ctx, followFor)
	defer cancel()
	sum, err := fw.Follow(ctx, runID, nil)
	if err != nil {
		if w.followCtx.Err() != nil { // a clean stop
			w.log.Info("watch: stopped following; the run carries on ('paddock status --run' shows it)", "run_id", runID, "session", k)
			return
		}
		w.log.Warn("watch: run not followed to its end ('paddock status --run' shows it)", "run_id", runID, "session", k, "err", err)
		return
	}
	w.log.Info("watch: run ended", "run_id", runID, "session", k, "status", sum.Status,
		"succeeded", sum.SessionsSucceeded, "unavailable", sum.SessionsUnavail, "failed", sum.SessionsFailed,
		"data_extracted", sum.DataExtracted, "api_calls", sum.APICallsMade)
}
