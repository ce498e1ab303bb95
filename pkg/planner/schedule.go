package planner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/pkg/schedule"
	"github.com/paddock-f1/paddock/pkg/season"
	"github.com/paddock-f1/paddock/streams"
)

// ScheduleVersion is the version of the schedule writer.
const ScheduleVersion = 1

// loadSchedule asks the loader for the season schedule of cmd.Year and
// waits until the schedule writer reports it in PostgreSQL, for as long as
// ctx allows: waiting behind other gaps or a quota pause is normal. With
// announce, the run's waiting event says every waitEvery what it waits
// for. A failed load is a *loadFailure, an unavailable schedule a refusal.
// When stop ends (the planner stops) it gives up with stop's error.
func (p *Planner) loadSchedule(ctx, stop context.Context, cmd streams.PlanCommand, announce bool) error {
	outcomes := make(chan *nats.Msg, 16)
	sub, err := p.nc.ChanSubscribe(streams.ScheduleExtracted(cmd.Year), outcomes)
	if err != nil {
		return fmt.Errorf("planner: wait for schedule: %w", err)
	}
	defer sub.Unsubscribe()
	since := p.cfg.Now()
	g := streams.Gap{V: streams.SchemaVersion, RunID: cmd.RunID, Schedule: true, SessionKey: streams.SessionKey{Year: cmd.Year}, Refetch: cmd.Refetch,
		ArchiveOnly: cmd.ArchiveOnly}
	_, err = p.js.Publish(ctx, streams.ScheduleGap(cmd.Year), streams.Encode(g), jetstream.WithMsgID(streams.MsgID(cmd.RunID, "schedule", cmd.Year)))
	if err != nil && !isPerSubjectLimit(err) { // already queued by another plan: wait for that one
		return fmt.Errorf("planner: publish schedule gap for %d: %w", cmd.Year, err)
	}
	p.log.Info("season schedule unknown: loading it first", "year", cmd.Year, "run_id", cmd.RunID)
	tick := time.NewTicker(waitCheck)
	defer tick.Stop()
	lastAnnounce := time.Now() // the first after waitEvery: most loads take less
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stop.Done():
			return stop.Err()
		case <-tick.C:
			// The outcome may have gone by while NATS reconnected: the
			// schedule in PostgreSQL is the truth.
			if !cmd.Refetch {
				if known, err := season.Known(ctx, p.pool, cmd.Year); err == nil && known {
					return nil
				}
			}
			if announce && time.Since(lastAnnounce) >= waitEvery {
				lastAnnounce = time.Now()
				p.announceWaiting(ctx, cmd, since)
			}
		case msg := <-outcomes:
			var e streams.Extraction
			if err := streams.Decode(msg.Data, &e); err != nil {
				continue
			}
			switch e.Status {
			case streams.StatusDone:
				return nil
			case streams.StatusUnavailable:
				return badCommand("no schedule of %d: %s", cmd.Year, e.Reason)
			default:
				return &loadFailure{fmt.Sprintf("loading the %d season schedule failed (check the network or the PADDOCK_*_URL settings, then plan again): %s", cmd.Year, e.Reason)}
			}
		}
	}
}

// How often a schedule wait checks PostgreSQL, and how often it announces
// what it waits for.
const (
	waitCheck = 500 * time.Millisecond
	waitEvery = 5 * time.Second
)

// announceWaiting publishes the run's waiting event: the gaps ahead of the
// schedule in the loader's queue and the pause of a host that makes the
// loader wait. Best effort: a failure is logged.
func (p *Planner) announceWaiting(ctx context.Context, cmd streams.PlanCommand, since time.Time) {
	w := streams.Waiting{V: streams.SchemaVersion, RunID: cmd.RunID, Since: since,
		For: fmt.Sprintf("the %d season schedule, which the loader takes in turn", cmd.Year)}
	if n, err := p.gapsAhead(ctx, streams.ScheduleGap(cmd.Year)); err == nil {
		w.Ahead = n
	}
	if p.quota != nil {
		if hosts, err := p.quota.Status(ctx); err == nil {
			for _, h := range hosts {
				until := h.PausedUntil
				if until == nil && h.MaxCalls > 0 && h.Remaining == 0 {
					until = h.NextReset
				}
				if until != nil && (w.PausedUntil == nil || until.After(*w.PausedUntil)) {
					w.Host, w.PausedUntil = h.Host, until
				}
			}
		}
	}
	if _, err := p.js.Publish(ctx, streams.RunEvent(cmd.RunID, streams.RunWaiting), streams.Encode(w)); err != nil {
		p.log.Warn("announce waiting", "run_id", cmd.RunID, "err", err)
	}
}

// gapsAhead counts the gaps queued before the one on subject (the one
// the loader holds included); 0 when subject has none queued.
func (p *Planner) gapsAhead(ctx context.Context, subject string) (int, error) {
	s, err := p.js.Stream(ctx, streams.Gaps)
	if err != nil {
		return 0, err
	}
	m, err := s.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx, jetstream.WithDeletedDetails(true))
	if err != nil {
		return 0, err
	}
	n := int(m.Sequence - info.State.FirstSeq)
	for _, d := range info.State.Deleted {
		if d >= info.State.FirstSeq && d < m.Sequence {
			n--
		}
	}
	return max(n, 0), nil
}

// consumeSchedules writes loaded schedules until ctx ends.
func (p *Planner) consumeSchedules(ctx context.Context) error {
	c, err := streams.Consumer(ctx, p.js, streams.ScheduleConsumer)
	if err != nil {
		return err
	}
	return consume.Run(ctx, c, p.HandleSchedule, p.log, consume.Options{Concurrency: 1,
		Name: streams.ScheduleConsumer, DeadLetters: p.js})
}

// HandleSchedule merges the schedule sources of a manifest and writes the
// season model; it reports the outcome on EVENTS. Idempotent.
func (p *Planner) HandleSchedule(ctx context.Context, msg jetstream.Msg) error {
	var m streams.Manifest
	if err := streams.Decode(msg.Data(), &m); err != nil {
		return consume.Permanent(err)
	}
	out := streams.Extraction{V: streams.SchemaVersion, RunID: m.RunID, Kind: "schedule", SessionKey: streams.SessionKey{Year: m.Year}, Digest: m.Digest()}
	s, err := p.mergeSchedule(ctx, &m)
	var retry *consume.RetryError
	switch {
	case errors.As(err, &retry):
		return err
	case err != nil:
		out.Status, out.Reason = streams.StatusFailed, err.Error()
	case s == nil && m.Unavailable != "":
		out.Status, out.Reason = streams.StatusUnavailable, m.Unavailable
	case s == nil:
		out.Status, out.Reason = streams.StatusFailed, feedErrors(&m)
	default:
		if err := season.Replace(ctx, p.pool, s, out.Digest); err != nil {
			return consume.Retry(2*time.Second, err)
		}
		out.Status = streams.StatusDone
		for _, e := range s.Events {
			out.Rows += len(e.Sessions)
		}
	}
	if _, err := p.js.Publish(ctx, streams.ScheduleExtracted(m.Year), streams.Encode(out),
		jetstream.WithMsgID(streams.MsgID(m.RunID, "schedule", out.Digest))); err != nil {
		return consume.Retry(time.Second, err)
	}
	p.log.Info("season schedule written", "year", m.Year, "status", out.Status, "sessions", out.Rows, "reason", out.Reason)
	return nil
}

// feedErrors says why no schedule source could be read: in one short
// line naming the hosts when none could be reached at all.
func feedErrors(m *streams.Manifest) string {
	var parts, hosts []string
	var why string
	for _, f := range m.Feeds {
		if f.Error == "" {
			continue
		}
		parts = append(parts, f.Name+": "+f.Error)
		if rest, ok := strings.CutPrefix(f.Error, "upstream: cannot reach "); ok {
			host, reason, _ := strings.Cut(rest, " (")
			if !slices.Contains(hosts, host) {
				hosts = append(hosts, host)
			}
			why, _, _ = strings.Cut(reason, ")")
		}
	}
	switch {
	case len(parts) == 0:
		return "no schedule source answered"
	case why != "" && len(unreached(m)) == len(parts):
		return fmt.Sprintf("cannot reach %s (%s)", strings.Join(hosts, ", "), why)
	}
	return strings.Join(parts, "; ")
}

// mergeSchedule parses every archived source of m and merges them; nil
// when no source had the season. A source that does not parse is left
// out with a warning as long as another one parses.
func (p *Planner) mergeSchedule(ctx context.Context, m *streams.Manifest) (*schedule.Season, error) {
	parsers := map[string]func([]byte) (*schedule.Season, error){
		"index": schedule.ParseIndex, "f1schedule": schedule.ParseF1Schedule, "jolpica": schedule.ParseJolpica,
	}
	var parts []*schedule.Season
	var errs []error
	for _, f := range m.Feeds {
		if f.Status != streams.FeedOK {
			continue
		}
		body, _, err := p.arc.Get(ctx, f.Object, f.SHA256)
		if err != nil {
			return nil, consume.Retry(2*time.Second, err)
		}
		parse := parsers[f.Name]
		if parse == nil {
			continue
		}
		s, err := parse(body)
		if err != nil {
			p.log.Warn("schedule source left out", "year", m.Year, "source", f.Name, "err", err)
			errs = append(errs, err)
			continue
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return nil, nil
	}
	return schedule.Merge(m.Year, parts...)
}

// unreached lists the failed feeds no host answered at all.
func unreached(m *streams.Manifest) []string {
	var out []string
	for _, f := range m.Feeds {
		if strings.HasPrefix(f.Error, "upstream: cannot reach ") {
			out = append(out, f.Name)
		}
	}
	return out
}
