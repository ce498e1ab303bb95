// Package loader is paddock's single loader: it takes one gap at a time
// from GAPS, fetches the feeds the gap's kinds need (the raw archive
// first, the upstream only for what the archive lacks), archives every
// definitive answer, and publishes a small manifest on LOADED for the
// extractors, plus the load's upstream cost on EVENTS for run accounting.
package loader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/schedule"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// Fetcher is the upstream the loader asks; *upstream.Client implements it.
type Fetcher interface {
	Get(ctx context.Context, host, path string) (*upstream.Response, error)
}

// Archive is what the loader needs of the raw archive.
type Archive interface {
	Stat(ctx context.Context, host, path string) (*archive.Entry, error)
	Put(ctx context.Context, host, path string, status int, origin string, body []byte) (*archive.Entry, error)
}

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
	js  jetstream.JetStream
	arc Archive
	up  Fetcher
	log *slog.Logger
	now func() time.Time
}

// New returns a loader.
func New(js jetstream.JetStream, arc Archive, up Fetcher, log *slog.Logger) *Loader {
	return &Loader{js: js, arc: arc, up: up, log: log, now: time.Now}
}

// Run consumes GAPS until ctx ends, one gap at a time.
func (l *Loader) Run(ctx context.Context) error {
	c, err := streams.Consumer(ctx, l.js, streams.LoaderConsumer)
	if err != nil {
		return err
	}
	return consume.Run(ctx, c, l.Handle, l.log, consume.Options{Concurrency: 1, Heartbeat: 20 * time.Second})
}

// Handle loads one gap message.
func (l *Loader) Handle(ctx context.Context, msg jetstream.Msg) error {
	var g streams.Gap
	if err := streams.Decode(msg.Data(), &g); err != nil {
		return consume.Permanent(err)
	}
	attempt := uint64(1)
	if md, err := msg.Metadata(); err == nil {
		attempt = md.NumDelivered
	}
	if g.Schedule {
		return l.loadSchedule(ctx, g, attempt)
	}
	return l.loadSession(ctx, g, attempt)
}

// job accumulates the cost of one load.
type job struct {
	calls, hits int
}

// fetch returns the manifest entry of host+path, asking the archive first.
// A rate-limit answer is returned as an error: the gap is retried later.
func (l *Loader) fetch(ctx context.Context, j *job, name, host, path string, refetch bool, ended time.Time) (streams.Feed, error) {
	feed := streams.Feed{Name: name, Host: host, Path: path}
	if !refetch {
		e, err := l.arc.Stat(ctx, host, path)
		switch {
		case err == nil && l.usable(e, ended):
			j.hits++
			return fromEntry(feed, e), nil
		case err != nil && !errors.Is(err, archive.ErrNotArchived):
			return feed, consume.Retry(5*time.Second, err)
		}
	}
	resp, err := l.up.Get(ctx, host, path)
	if resp != nil {
		j.calls += resp.Calls
	}
	if err != nil {
		var rl *upstream.RateLimitedError
		if errors.As(err, &rl) {
			return feed, consume.Retry(max(rl.RetryAfter, time.Second), err)
		}
		if ctx.Err() != nil {
			return feed, consume.Retry(time.Second, err)
		}
		feed.Status = streams.FeedFailed
		feed.Error = err.Error()
		return feed, nil
	}
	e, err := l.arc.Put(ctx, host, path, resp.Status, resp.Origin, resp.Body)
	if err != nil {
		return feed, consume.Retry(5*time.Second, err)
	}
	return fromEntry(feed, e), nil
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

func (l *Loader) loadSession(ctx context.Context, g streams.Gap, attempt uint64) error {
	if g.Path == "" {
		return consume.Permanent(fmt.Errorf("loader: gap %d/%d/%s has no archive path", g.Year, g.Round, g.Session))
	}
	m := streams.Manifest{
		V: streams.SchemaVersion, RunID: g.RunID, Year: g.Year, Round: g.Round,
		Session: g.Session, Code: g.Code, Path: g.Path, Kinds: g.Kinds, Force: g.Force,
	}
	j := &job{}
	host := upstream.LiveTiming
	for i, need := range f1.FeedPlan(g.Kinds) {
		path := "/static/" + g.Path + need.File
		if m.Unavailable != "" {
			m.Feeds = append(m.Feeds, streams.Feed{Name: need.File, Host: host, Path: path, Status: streams.FeedSkipped})
			continue
		}
		feed, err := l.fetch(ctx, j, need.File, host, path, g.Refetch, g.Ended)
		if err != nil {
			if lerr := l.publishCost(ctx, g.RunID, sessionSubject(g), attempt, j, "", "retrying: "+err.Error()); lerr != nil {
				l.log.Warn("loader: publish cost", "err", lerr)
			}
			return err
		}
		// The cheapest required feed is the probe: when neither source
		// has it, the session has no data and nothing else is asked.
		if i == 0 && feed.Status == streams.FeedMissing {
			m.Unavailable = fmt.Sprintf("no data for this session: %s is on neither %s nor %s", need.File, upstream.LiveTiming, upstream.Mirror)
		}
		m.Feeds = append(m.Feeds, feed)
	}
	m.Calls, m.ArchiveHits, m.LoadedAt = j.calls, j.hits, l.now().UTC()
	return l.publish(ctx, streams.SessionLoaded(g.Year, g.Round, g.Code), sessionSubject(g), attempt, &m, j)
}

func sessionSubject(g streams.Gap) string {
	if g.Schedule {
		return fmt.Sprintf("%d/schedule", g.Year)
	}
	return fmt.Sprintf("%d/%d/%s", g.Year, g.Round, g.Session)
}

// ScheduleSources are the season schedule sources, in merge priority.
func ScheduleSources(year int) []streams.Feed {
	return []streams.Feed{
		{Name: "index", Host: upstream.LiveTiming, Path: schedule.IndexPath(year)},
		{Name: "f1schedule", Host: upstream.GitHubRaw, Path: schedule.F1SchedulePath(year)},
		{Name: "jolpica", Host: upstream.Jolpica, Path: schedule.JolpicaPath(year)},
	}
}

func (l *Loader) loadSchedule(ctx context.Context, g streams.Gap, attempt uint64) error {
	m := streams.Manifest{V: streams.SchemaVersion, RunID: g.RunID, Schedule: true, Year: g.Year, Force: g.Force}
	j := &job{}
	for _, src := range ScheduleSources(g.Year) {
		feed, err := l.fetch(ctx, j, src.Name, src.Host, src.Path, g.Refetch, time.Time{})
		if err != nil {
			return err
		}
		m.Feeds = append(m.Feeds, feed)
	}
	missing := 0
	for _, f := range m.Feeds {
		if f.Status == streams.FeedMissing {
			missing++
		}
	}
	if missing == len(m.Feeds) {
		m.Unavailable = "neither F1's Index.json, FastF1's f1schedule nor Jolpica has this season"
	}
	m.Calls, m.ArchiveHits, m.LoadedAt = j.calls, j.hits, l.now().UTC()
	return l.publish(ctx, streams.ScheduleLoaded(g.Year), sessionSubject(g), attempt, &m, j)
}

// publish sends the manifest, then the cost. Both ids derive from the
// content, so a redelivered gap publishes nothing twice.
func (l *Loader) publish(ctx context.Context, subject, what string, attempt uint64, m *streams.Manifest, j *job) error {
	id := streams.MsgID(m.RunID, subject, m.Digest(), m.Force)
	if _, err := l.js.Publish(ctx, subject, streams.Encode(m), jetstream.WithMsgID(id)); err != nil {
		return consume.Retry(2*time.Second, fmt.Errorf("loader: publish manifest %s: %w", subject, err))
	}
	failed := ""
	for _, f := range m.Feeds {
		if f.Status == streams.FeedFailed {
			failed = f.Error
		}
	}
	if err := l.publishCost(ctx, m.RunID, what, attempt, j, m.Unavailable, failed); err != nil {
		return consume.Retry(2*time.Second, err)
	}
	l.log.Info("loaded", "what", what, "calls", j.calls, "archive_hits", j.hits, "unavailable", m.Unavailable != "", "run_id", m.RunID)
	return nil
}

func (l *Loader) publishCost(ctx context.Context, runID, what string, attempt uint64, j *job, unavailable, failed string) error {
	c := streams.LoadCost{
		V: streams.SchemaVersion, RunID: runID, Subject: fmt.Sprintf("%s#%d", what, attempt),
		Calls: j.calls, ArchiveHits: j.hits, Unavailable: unavailable, Failed: failed,
	}
	_, err := l.js.Publish(ctx, streams.RunEvent(runID, streams.RunLoad), streams.Encode(c),
		jetstream.WithMsgID(streams.MsgID(runID, c.Subject, "cost")))
	if err != nil {
		return fmt.Errorf("loader: publish cost of %s: %w", what, err)
	}
	return nil
}
