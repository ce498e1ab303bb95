// Package loader is paddock's single loader: it takes gaps from GAPS (a
// few at once, under one rate governor), fetches the feeds each gap's
// kinds need (the raw archive first, the upstream only for what the
// archive lacks), archives every definitive answer, and publishes a small
// manifest on LOADED for the extractors, plus the load's upstream cost on
// EVENTS for run accounting.
package loader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/paddock-f1/paddock/pkg/ops"

	"github.com/paddock-f1/paddock/pkg/metrics"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/singleflight"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/livetiming"
	"github.com/paddock-f1/paddock/pkg/schedule"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// Fetcher is the upstream the loader asks; *upstream.Client implements it.
type Fetcher interface {
	Get(ctx context.Context, host, path string) (*upstream.Response, error)
	GetDirect(ctx context.Context, host, path string) (*upstream.Response, error)
}

// Governor is what the loader needs of the rate governor beyond the
// per-request gate of its Fetcher; *governor.Governor implements it.
type Governor interface {
	// Reserve waits until calls more requests to host fit in its window.
	Reserve(ctx context.Context, host string, calls int) error
	// PauseHost makes every request to host wait until until.
	PauseHost(ctx context.Context, host string, until time.Time) error
}

// Archive is what the loader needs of the raw archive.
type Archive interface {
	Stat(ctx context.Context, host, path string) (*archive.Entry, error)
	Put(ctx context.Context, host, path string, status int, origin string, body []byte) (*archive.Entry, error)
	Replace(ctx context.Context, host, path string, status int, origin string, body []byte, old *archive.Entry) (*archive.Entry, error)
	Get(ctx context.Context, name, sha256 string) ([]byte, *archive.Entry, error)
}

// notArchived is why an archive-only job skipped a feed.
const notArchived = "is not in the raw archive, and an archive-only load (paddock replay) asks no upstream"

// NotFoundSettle is how long after a session ends a "not there" answer
// becomes final. Before that an archived 404 is asked again once it is
// older than NotFoundRecheck: F1 publishes a session's data 30-120 min
// after it ends.
const (
	NotFoundSettle  = 7 * 24 * time.Hour
	NotFoundRecheck = time.Hour
)

// Loader loads gaps. Run one per deployment: the upstream quota is global.
type Loader struct {
	bound   atomic.Bool // the durable consumer is bound (readiness)
	js      jetstream.JetStream
	arc     Archive
	up      Fetcher
	gov     Governor
	log     *slog.Logger
	now     func() time.Time
	ackWait time.Duration
	asking  singleflight.Group // upstream requests in flight, by archive name
}

// New returns a loader. ackWait is how long a gap may go without a
// heartbeat before another loader gets it (a dead loader's gap comes back
// after it); 0 keeps the topology's default.
func New(js jetstream.JetStream, arc Archive, up Fetcher, gov Governor, ackWait time.Duration, log *slog.Logger) *Loader {
	return &Loader{js: js, arc: arc, up: up, gov: gov, log: log, now: time.Now, ackWait: ackWait}
}

// Run consumes GAPS until ctx ends, streams.LoaderInFlight gaps at once:
// the governor paces their requests, so more gaps in hand overlap the
// waits of each (the archive, JetStream, the upstream's answers) without
// asking the upstream any faster.
func (l *Loader) Run(ctx context.Context) error {
	stream, cfg := streams.ConsumerConfig(streams.LoaderConsumer)
	if l.ackWait > 0 {
		cfg.AckWait = l.ackWait
	}
	c, err := l.js.CreateOrUpdateConsumer(ctx, stream, cfg)
	if err != nil {
		return fmt.Errorf("loader: consumer: %w", err)
	}
	l.bound.Store(true)
	defer l.bound.Store(false)
	return consume.Run(ctx, c, l.Handle, l.log, consume.Options{Concurrency: streams.LoaderInFlight, Heartbeat: cfg.AckWait / 3,
		Name: streams.LoaderConsumer, DeadLetters: l.js})
}

// Ready is the loader's readiness: its consumer is bound.
func (l *Loader) Ready() ops.Check { return ops.Bound("loader", &l.bound) }

// Handle loads one gap message.
func (l *Loader) Handle(ctx context.Context, msg jetstream.Msg) error {
	var g streams.Gap
	if err := streams.Decode(msg.Data(), &g); err != nil {
		return consume.Permanent(err)
	}
	attempt := uint64(1)
	if md, err := msg.Metadata(); err == nil {
		attempt = md.NumDelivered
		metrics.GapsPending.Set(float64(md.NumPending))
	}
	j := &job{runID: g.RunID, subject: fmt.Sprintf("%s#%d", jobSubject(g), attempt), notify: g.Notify, archiveOnly: g.ArchiveOnly}
	ctx = context.WithValue(ctx, jobKey{}, j)
	if g.Schedule {
		return l.loadSchedule(ctx, g, j)
	}
	return l.loadSession(ctx, g, j)
}

// job is one loader job: a gap at one delivery attempt. It travels in the
// context so the gate can attribute every request to its run.
type job struct {
	runID   string
	notify  bool   // the run posts its pauses
	subject string // what and attempt: "2019/14/Qualifying#1"
	seq     int    // requests made so far
	calls   int    // requests made, as the responses report them
	hits    int    // feeds served by the archive

	// archiveOnly: every feed comes from the raw archive; one it lacks
	// is skipped, never asked of the upstream (paddock replay).
	archiveOnly bool

	// stats holds the archive's answer for each object the job looked up,
	// so the reservation before a load and the load read it once.
	stats map[string]statResult
}

type statResult struct {
	e   *archive.Entry
	err error
}

// stat is the archive's entry of host+path (archive.ErrNotArchived when it
// has none), asked once per job; other errors are not kept.
func (l *Loader) stat(ctx context.Context, host, path string) (*archive.Entry, error) {
	j := jobFrom(ctx)
	if j == nil {
		return l.arc.Stat(ctx, host, path)
	}
	name := archive.Name(host, path)
	if r, ok := j.stats[name]; ok {
		return r.e, r.err
	}
	e, err := l.arc.Stat(ctx, host, path)
	if err == nil || errors.Is(err, archive.ErrNotArchived) {
		if j.stats == nil {
			j.stats = map[string]statResult{}
		}
		j.stats[name] = statResult{e, err}
	}
	return e, err
}

// put archives an upstream answer, telling the archive what the job's
// lookup found so it is not asked again.
func (l *Loader) put(ctx context.Context, j *job, host, path string, resp *upstream.Response) (*archive.Entry, error) {
	if r, ok := j.stats[archive.Name(host, path)]; ok {
		return l.arc.Replace(ctx, host, path, resp.Status, resp.Origin, resp.Body, r.e)
	}
	return l.arc.Put(ctx, host, path, resp.Status, resp.Origin, resp.Body)
}

type jobKey struct{}

func jobFrom(ctx context.Context) *job {
	j, _ := ctx.Value(jobKey{}).(*job)
	return j
}

// fetch returns the manifest entry of host+path, asking the archive first.
// A rate-limit answer is returned as an error: the gap is retried later.
// In an archive-only job the archived answer stands whatever its age, and
// a feed the archive lacks is skipped: the upstream is never asked.
func (l *Loader) fetch(ctx context.Context, j *job, name, host, path string, refetch bool, r route, ended time.Time) (streams.Feed, error) {
	feed := streams.Feed{Name: name, Host: host, Path: path}
	if !refetch || j.archiveOnly {
		e, err := l.stat(ctx, host, path)
		switch {
		case err == nil && (j.archiveOnly || l.usable(e, ended)):
			j.hits++
			metrics.ArchiveHits.Inc()
			return fromEntry(feed, e), nil
		case err != nil && !errors.Is(err, archive.ErrNotArchived):
			return feed, consume.Retry(5*time.Second, err)
		}
	}
	if j.archiveOnly {
		feed.Status = streams.FeedSkipped
		feed.Error = name + " " + notArchived
		return feed, nil
	}
	// Gaps load side by side: one that needs what another is asking the
	// upstream for right now (a weekend's circuit layout) waits for that
	// answer instead of asking again.
	asked := false
	v, err, _ := l.asking.Do(archive.Name(host, path), func() (any, error) {
		asked = true
		return l.ask(ctx, j, feed, host, path, r)
	})
	if !asked {
		if err != nil {
			return feed, err
		}
		j.hits++ // the other gap's answer, archived
		metrics.ArchiveHits.Inc()
		f := v.(streams.Feed)
		f.Name = name
		return f, nil
	}
	return v.(streams.Feed), err
}

// ask asks the upstream for host+path and archives the answer; the
// requests it made count in j.
func (l *Loader) ask(ctx context.Context, j *job, feed streams.Feed, host, path string, r route) (streams.Feed, error) {
	resp, err := l.get(ctx, host, path, r)
	if resp != nil {
		j.calls += resp.Calls
	}
	if err != nil {
		var rl *upstream.RateLimitedError
		if errors.As(err, &rl) {
			// Not a failure: the host asked us to wait. Every request to it
			// waits (in any loader), and the gap comes back after the pause.
			wait := max(rl.RetryAfter, time.Second)
			until := l.now().Add(wait)
			if perr := l.gov.PauseHost(ctx, rl.Host, until); perr != nil {
				return feed, consume.Retry(wait, perr)
			}
			l.announce(ctx, rl.Host, until, "retry-after")
			return feed, consume.Retry(wait, err)
		}
		var upErr *upstream.Error
		if ctx.Err() != nil || !errors.As(err, &upErr) {
			// Not the upstream's failure (the governor could not reach
			// JetStream, say): nothing is wrong with the feed; try the
			// whole gap again shortly.
			return feed, consume.Retry(2*time.Second, err)
		}
		feed.Status = streams.FeedFailed
		feed.Error = err.Error()
		return feed, nil
	}
	e, err := l.put(ctx, j, host, path, resp)
	if err != nil {
		return feed, consume.Retry(5*time.Second, err)
	}
	return fromEntry(feed, e), nil
}

// route says which live-timing host to ask for a feed.
type route struct {
	mirrorFirst bool   // the season is served by the mirror: ask it first, then the primary
	only        string // the session's other feeds came from this host: ask it alone
}

// get asks the upstream for a path. Live-timing paths go to the primary,
// then its mirror; for a season the mirror serves, the mirror first and
// the primary only when the mirror does not have it; and once a session's
// feed came from one host, that host alone (a copy holds a session whole
// or not at all, so asking the other one would only spend quota).
func (l *Loader) get(ctx context.Context, host, path string, r route) (*upstream.Response, error) {
	switch {
	case host != upstream.LiveTiming:
		return l.up.Get(ctx, host, path)
	case r.only != "":
		return l.up.GetDirect(ctx, r.only, path)
	case !r.mirrorFirst:
		return l.up.Get(ctx, host, path)
	}
	resp, err := l.up.GetDirect(ctx, upstream.Mirror, path)
	if err != nil || resp.Status < http.StatusBadRequest {
		return resp, err
	}
	calls := resp.Calls
	resp, err = l.up.GetDirect(ctx, upstream.LiveTiming, path)
	if resp != nil {
		resp.Calls += calls
	}
	return resp, err
}

// usable reports whether an archived answer can stand in for the upstream.
func (l *Loader) usable(e *archive.Entry, ended time.Time) bool {
	if e.Status == http.StatusOK {
		return true
	}
	if ended.IsZero() || e.FetchedAt.Sub(ended) >= NotFoundSettle {
		return true // final: the source never published it
	}
	return l.now().Sub(e.FetchedAt) < NotFoundRecheck
}

func fromEntry(f streams.Feed, e *archive.Entry) streams.Feed {
	f.Origin = e.Origin
	if e.Status == http.StatusOK {
		f.Status = streams.FeedOK
		f.Object, f.Size, f.SHA256 = e.Name, e.Size, e.SHA256
		return f
	}
	f.Status = streams.FeedMissing
	f.Error = fmt.Sprintf("%s answered %d for %s", e.Origin, e.Status, e.Path)
	return f
}

func (l *Loader) loadSession(ctx context.Context, g streams.Gap, j *job) error {
	if g.Path == "" {
		return consume.Permanent(fmt.Errorf("loader: gap %s has no archive path", g.SessionKey))
	}
	m := streams.Manifest{
		V: streams.SchemaVersion, RunID: g.RunID, SessionKey: g.SessionKey,
		Code: g.Code, Path: g.Path, Kinds: g.Kinds, Force: g.Force,
	}
	feeds := kinds.SessionFeeds(g.Kinds, g.SessionKey, g.Path, g.CircuitKey)
	m.CircuitKey = g.CircuitKey
	// Wait for room for the whole load first, so a session is not paused
	// halfway through it.
	need := map[string]int{}
	for _, f := range feeds {
		if !g.ArchiveOnly && l.needsCall(ctx, f.Host, f.Path, g.Refetch || slices.Contains(g.RefetchFeeds, f.Name), g.Ended) {
			host := f.Host
			if host == upstream.LiveTiming && g.Mirror {
				host = upstream.Mirror
			}
			need[host]++
		}
	}
	for host, n := range need {
		if err := l.gov.Reserve(ctx, host, n); err != nil {
			return consume.Retry(time.Second, err)
		}
	}
	// Required feeds first: a kind whose required feed is on neither host
	// is unavailable, and its optional feeds are not asked for.
	r := route{mirrorFirst: g.Mirror}
	unavailable := map[string]string{} // kind -> reason
	for _, f := range feeds {
		if f.Name == f1.MultiViewerCircuit && f.Path == "" {
			// The schedule did not know the circuit: SessionInfo (fetched
			// before, it sorts first) names it.
			key, err := l.circuitKey(ctx, &m)
			if err != nil {
				return err
			}
			if key == 0 {
				for _, k := range f.RequiredBy {
					unavailable[k] = "the circuit is unknown: SessionInfo.jsonStream is not published for this session"
				}
				m.Feeds = append(m.Feeds, streams.Feed{Name: f.Name, Host: f.Host, Status: streams.FeedSkipped})
				continue
			}
			m.CircuitKey, f.Path = key, f1.CircuitPath(key, g.Year)
		}
		if f.Optional && allUnavailable(f.Kinds, unavailable) {
			m.Feeds = append(m.Feeds, streams.Feed{Name: f.Name, Host: f.Host, Path: f.Path, Status: streams.FeedSkipped})
			continue
		}
		feed, err := l.fetch(ctx, j, f.Name, f.Host, f.Path, g.Refetch || slices.Contains(g.RefetchFeeds, f.Name), r, g.Ended)
		if err != nil {
			return err
		}
		if feed.Status == streams.FeedOK && r.only == "" && f.Host == upstream.LiveTiming {
			r.only = feed.Origin
		}
		if feed.Status == streams.FeedMissing && f.Host == upstream.LiveTiming && r.only == "" {
			// On neither host: the session is most likely not published.
			// Ask for its other feeds once, where the season lives.
			r.only = upstream.LiveTiming
			if g.Mirror {
				r.only = upstream.Mirror
			}
		}
		if feed.Status == streams.FeedMissing {
			for _, k := range f.RequiredBy {
				if unavailable[k] == "" {
					unavailable[k] = fmt.Sprintf("%s is on neither %s nor %s", f.Name, upstream.LiveTiming, upstream.Mirror)
				}
			}
		}
		if feed.Status == streams.FeedSkipped {
			for _, k := range f.RequiredBy {
				if unavailable[k] == "" {
					unavailable[k] = f.Name + " " + notArchived
				}
			}
		}
		m.Feeds = append(m.Feeds, feed)
	}
	if len(unavailable) == len(g.Kinds) {
		m.Unavailable = "no data for this session: " + unavailable[g.Kinds[0]]
	}
	m.Calls, m.ArchiveHits, m.LoadedAt = j.calls, j.hits, l.now().UTC()
	return l.publish(ctx, streams.SessionLoaded(g.SessionKey), &m, j)
}

// circuitKey reads the (corrected) circuit key from the manifest's
// SessionInfo; 0 when it has none.
func (l *Loader) circuitKey(ctx context.Context, m *streams.Manifest) (int, error) {
	f := m.Feed("SessionInfo.jsonStream")
	if f == nil || f.Status != streams.FeedOK {
		return 0, nil
	}
	body, _, err := l.arc.Get(ctx, f.Object, f.SHA256)
	if err != nil {
		return 0, consume.Retry(2*time.Second, err)
	}
	key, name, err := livetiming.CircuitOf(body)
	if err != nil {
		l.log.Warn("loader: SessionInfo names no circuit", "session", m.Path, "err", err)
		return 0, nil
	}
	return f1.CorrectCircuitKey(key, name), nil
}

// allUnavailable reports whether every kind in kinds is unavailable.
func allUnavailable(kinds []string, unavailable map[string]string) bool {
	for _, k := range kinds {
		if unavailable[k] == "" {
			return false
		}
	}
	return true
}

// needsCall reports whether fetching host+path will ask the upstream.
func (l *Loader) needsCall(ctx context.Context, host, path string, refetch bool, ended time.Time) bool {
	if refetch {
		return true
	}
	e, err := l.stat(ctx, host, path)
	return err != nil || !l.usable(e, ended)
}

// jobSubject names what a gap loads.
func jobSubject(g streams.Gap) string {
	if g.Schedule {
		return fmt.Sprintf("%d/schedule", g.Year)
	}
	return g.SessionKey.String()
}

// ScheduleSources are the season schedule sources, in merge priority.
func ScheduleSources(year int) []streams.Feed {
	return []streams.Feed{
		{Name: "index", Host: upstream.LiveTiming, Path: schedule.IndexPath(year)},
		{Name: "f1schedule", Host: upstream.GitHubRaw, Path: schedule.F1SchedulePath(year)},
		{Name: "jolpica", Host: upstream.Jolpica, Path: schedule.JolpicaPath(year)},
	}
}

func (l *Loader) loadSchedule(ctx context.Context, g streams.Gap, j *job) error {
	m := streams.Manifest{V: streams.SchemaVersion, RunID: g.RunID, Schedule: true, SessionKey: streams.SessionKey{Year: g.Year}, Force: g.Force}
	for _, src := range ScheduleSources(g.Year) {
		if !g.ArchiveOnly && l.needsCall(ctx, src.Host, src.Path, g.Refetch, time.Time{}) {
			if err := l.gov.Reserve(ctx, src.Host, 1); err != nil {
				return consume.Retry(time.Second, err)
			}
		}
		feed, err := l.fetch(ctx, j, src.Name, src.Host, src.Path, g.Refetch, route{}, time.Time{})
		if err != nil {
			return err
		}
		m.Feeds = append(m.Feeds, feed)
	}
	missing, skipped := 0, 0
	for _, f := range m.Feeds {
		switch f.Status {
		case streams.FeedMissing:
			missing++
		case streams.FeedSkipped:
			skipped++
		}
	}
	switch {
	case missing == len(m.Feeds):
		m.Unavailable = "neither F1's Index.json, FastF1's f1schedule nor Jolpica has this season"
	case missing+skipped == len(m.Feeds):
		m.Unavailable = fmt.Sprintf("the raw archive holds no schedule of %d, and an archive-only plan (paddock replay) asks no upstream: import the season first", g.Year)
	}
	m.Calls, m.ArchiveHits, m.LoadedAt = j.calls, j.hits, l.now().UTC()
	return l.publish(ctx, streams.ScheduleLoaded(g.Year), &m, j)
}

// publish reports the job's end on EVENTS, then sends the manifest: run
// accounting sees the cost before the outcomes the manifest leads to.
// Ids derive from the content, so a redelivered gap publishes nothing twice.
func (l *Loader) publish(ctx context.Context, subject string, m *streams.Manifest, j *job) error {
	failed := ""
	for _, f := range m.Feeds {
		if f.Status == streams.FeedFailed {
			failed = f.Error
		}
	}
	c := streams.LoadCost{V: streams.SchemaVersion, RunID: m.RunID, Subject: j.subject, ArchiveHits: j.hits,
		Unavailable: m.Unavailable, Failed: failed}
	if _, err := l.js.Publish(ctx, streams.RunEvent(m.RunID, streams.RunLoad), streams.Encode(c),
		jetstream.WithMsgID(streams.MsgID(m.RunID, j.subject, "load"))); err != nil {
		return consume.Retry(2*time.Second, fmt.Errorf("loader: publish load of %s: %w", j.subject, err))
	}
	id := streams.MsgID(m.RunID, subject, m.Digest(), m.Force)
	if _, err := l.js.Publish(ctx, subject, streams.Encode(m), jetstream.WithMsgID(id)); err != nil {
		return consume.Retry(2*time.Second, fmt.Errorf("loader: publish manifest %s: %w", subject, err))
	}
	outcome := "loaded"
	switch {
	case failed != "":
		outcome = "failed"
	case m.Unavailable != "":
		outcome = "unavailable"
	}
	metrics.SessionsLoaded.WithLabelValues(outcome).Inc()
	l.log.Info("loaded", "what", j.subject, "calls", j.calls, "archive_hits", j.hits, "unavailable", m.Unavailable != "", "run_id", m.RunID)
	return nil
}

// announce publishes a pause of the current job's run.
func (l *Loader) announce(ctx context.Context, host string, until time.Time, reason string) {
	Announce(ctx, l.js, l.log, jobFrom(ctx), host, until, reason)
}

// Announce publishes a pause on EVENTS (counted in the run of j's
// rate_limit_pauses; j may be nil) and logs it.
func Announce(ctx context.Context, js jetstream.JetStream, log *slog.Logger, j *job, host string, until time.Time, reason string) {
	runID, notify := "none", false
	if j != nil {
		runID, notify = j.runID, j.notify
	}
	log.Warn("upstream paused", "host", host, "until", until.UTC().Format(time.RFC3339), "reason", reason, "run_id", runID)
	p := streams.Paused{V: streams.SchemaVersion, RunID: runID, Host: host, Until: until.UTC(), Reason: reason, Notify: notify}
	if _, err := js.Publish(ctx, streams.RunEvent(runID, streams.RunPaused), streams.Encode(p),
		jetstream.WithMsgID(streams.MsgID(runID, host, until.UnixMilli(), reason))); err != nil {
		log.Warn("loader: publish pause", "err", err)
	}
}
