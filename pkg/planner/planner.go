// Package planner is paddock's planner: a NATS micro service that takes
// plan commands by request/reply, validates them, makes sure the season
// schedule is known (loading it through the loader when it is not),
// detects gaps, records the run, publishes one gap per session and answers
// with the gap report. It also writes loaded schedules to PostgreSQL.
package planner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/gaps"
	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/runs"
	"github.com/paddock-f1/paddock/pkg/schedule"
	"github.com/paddock-f1/paddock/pkg/season"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// Config tunes the planner.
type Config struct {
	// ScheduleWait bounds how long a plan waits for an unknown season
	// schedule to be loaded; 2 minutes by default.
	ScheduleWait time.Duration
	// Now is the clock (tests move it); time.Now by default.
	Now func() time.Time
}

// Planner plans runs. Its handlers are safe for concurrent use.
type Planner struct {
	cfg   Config
	nc    *nats.Conn
	js    jetstream.JetStream
	pool  *pgxpool.Pool
	arc   Archive
	quota Quota
	acc   *runs.Accountant
	log   *slog.Logger
}

// Quota is what the planner reads of the rate governor;
// *governor.Governor implements it.
type Quota interface {
	Remaining(ctx context.Context, host string) (int, error)
	Limit(host string) governor.Limit
}

// New returns a planner.
func New(cfg Config, nc *nats.Conn, js jetstream.JetStream, pool *pgxpool.Pool, arc Archive, quota Quota, acc *runs.Accountant, log *slog.Logger) *Planner {
	if cfg.ScheduleWait <= 0 {
		cfg.ScheduleWait = 2 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Planner{cfg: cfg, nc: nc, js: js, pool: pool, arc: arc, quota: quota, acc: acc, log: log}
}

// Archive is what the planner needs of the raw archive: estimates look
// feeds up, the schedule writer reads them.
type Archive interface {
	gaps.Archive
	Get(ctx context.Context, name, sha256 string) ([]byte, *archive.Entry, error)
}

// CommandError is a plan command the planner refuses; its message says
// what is wrong and what to do.
type CommandError struct{ Msg string }

func (e *CommandError) Error() string { return e.Msg }

func badCommand(format string, args ...any) error {
	return &CommandError{Msg: fmt.Sprintf(format, args...)}
}

// Serve registers the plan endpoint as a micro service and consumes loaded
// schedules until ctx ends.
func (p *Planner) Serve(ctx context.Context) error {
	svc, err := micro.AddService(p.nc, micro.Config{
		Name:        streams.PlanService,
		Version:     "0.1.0",
		Description: "paddock planner: plan commands in, gap reports out",
		Endpoint: &micro.EndpointConfig{
			Subject: streams.PlanSubject,
			Handler: micro.HandlerFunc(func(req micro.Request) {
				// Planning may wait for a schedule load: answer from a goroutine.
				go p.serveRequest(ctx, req)
			}),
		},
	})
	if err != nil {
		return fmt.Errorf("planner: add micro service: %w", err)
	}
	defer svc.Stop()
	return p.consumeSchedules(ctx)
}

func (p *Planner) serveRequest(ctx context.Context, req micro.Request) {
	var cmd streams.PlanCommand
	if err := streams.Decode(req.Data(), &cmd); err != nil {
		_ = req.Error("400", "plan command is not valid JSON: "+err.Error(), nil)
		return
	}
	reply, err := p.Plan(ctx, cmd)
	var ce *CommandError
	switch {
	case errors.As(err, &ce):
		p.log.Info("plan refused", "year", cmd.Year, "err", err)
		_ = req.Error("400", ce.Msg, nil)
	case err != nil:
		p.log.Warn("plan failed", "year", cmd.Year, "err", err)
		_ = req.Error("500", err.Error(), nil)
	default:
		_ = req.Respond(streams.Encode(reply))
	}
}

// Validate checks a command against what needs no database: the archive's
// years, round bounds, kind and session names. It normalises names.
func Validate(cmd *streams.PlanCommand, now time.Time) error {
	last := now.UTC().Year()
	if cmd.Year < f1.FirstYear || cmd.Year > last {
		if cmd.Year >= 1950 && cmd.Year < f1.FirstYear {
			return badCommand("year %d has no session data: F1's live-timing archive starts in %d; plan a year from %d to %d", cmd.Year, f1.FirstYear, f1.FirstYear, last)
		}
		return badCommand("year %d is outside the archive: plan a year from %d to %d", cmd.Year, f1.FirstYear, last)
	}
	if cmd.Round != nil && (*cmd.Round == 0 || *cmd.Round > f1.MaxRound || *cmd.Round < -f1.MaxTests) {
		return badCommand("round %d does not exist: championship rounds are numbered from 1, testing events T1, T2, ... are rounds -1, -2, ... (leave --round out for the whole season)", *cmd.Round)
	}
	if cmd.Session != "" {
		name, err := f1.ParseSession(cmd.Session)
		if err != nil {
			return badCommand("%v", err)
		}
		cmd.Session = name
	}
	kindList, err := kinds.Parse(cmd.Kinds)
	if err != nil {
		return badCommand("%v", err)
	}
	cmd.Kinds = kindList
	return nil
}

// NewRunID returns a fresh run id: UTC time plus randomness, sortable.
func NewRunID(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b)
}

// Plan runs a plan command: it publishes nothing for a command it refuses.
func (p *Planner) Plan(ctx context.Context, cmd streams.PlanCommand) (*streams.PlanReply, error) {
	now := p.cfg.Now()
	if err := Validate(&cmd, now); err != nil {
		return nil, err
	}
	if cmd.RunID == "" {
		cmd.RunID = NewRunID(now)
	} else if strings.ContainsAny(cmd.RunID, ". *>") {
		return nil, badCommand("run id %q must not contain dots, spaces or wildcards", cmd.RunID)
	}
	known, err := season.Known(ctx, p.pool, cmd.Year)
	if err != nil {
		return nil, err
	}
	fail := func(err error) error {
		if !cmd.DryRun {
			_ = p.acc.Fail(ctx, cmd.RunID, err)
		}
		return err
	}
	if !cmd.DryRun {
		if err := p.acc.Create(ctx, cmd.RunID, cmd); err != nil {
			return nil, err
		}
	}
	if !known || cmd.Refetch && !cmd.DryRun {
		// A dry run of a season whose schedule is unknown loads the
		// schedule (its three documents), never a session.
		if err := p.loadSchedule(ctx, cmd); err != nil {
			return nil, fail(err)
		}
	}
	if err := p.checkScope(ctx, cmd); err != nil {
		return nil, fail(err)
	}
	sc := gaps.Scope{Year: cmd.Year, Session: cmd.Session, Kinds: cmd.Kinds, Force: cmd.Force, Refetch: cmd.Refetch}
	if cmd.Round != nil {
		sc.Round = *cmd.Round
	}
	plan, err := gaps.Detect(ctx, p.pool, p.arc, sc, now)
	if err != nil {
		return nil, fail(err)
	}
	if cmd.DryRun {
		if _, err := p.budget(ctx, cmd, plan); err != nil {
			return nil, err
		}
		return &streams.PlanReply{V: streams.SchemaVersion, RunID: "", Report: &plan.Report}, nil
	}
	if _, err := p.js.Publish(ctx, streams.PlanAccepted(cmd.RunID), streams.Encode(cmd),
		jetstream.WithMsgID(streams.MsgID(cmd.RunID, "accepted"))); err != nil {
		return nil, fmt.Errorf("planner: record command: %w", err)
	}
	publish, err := p.budget(ctx, cmd, plan)
	if err != nil {
		return nil, fail(err)
	}
	var queued []streams.Gap
	// Items first, then gaps: an outcome never arrives for an unknown item.
	if err := p.acc.Planned(ctx, cmd.RunID, &plan.Report, publish); err != nil {
		return nil, err
	}
	for _, g := range publish {
		_, err := p.js.Publish(ctx, streams.SessionGap(g.SessionKey), streams.Encode(g),
			jetstream.WithMsgID(streams.MsgID(g.RunID, g.Year, g.Round, g.Session, strings.Join(g.Kinds, ","))))
		if isPerSubjectLimit(err) {
			queued = append(queued, g)
			if derr := p.acc.Dequeue(ctx, cmd.RunID, g); derr != nil {
				return nil, derr
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("planner: publish gap %s: %w", g.SessionKey, err)
		}
	}
	for _, g := range queued {
		plan.Report.Queued = append(plan.Report.Queued, streams.SessionRef{SessionKey: g.SessionKey})
	}
	if len(queued) > 0 {
		// Re-evaluate completion: the dequeued items no longer hold the run open.
		if err := p.acc.Planned(ctx, cmd.RunID, &plan.Report, nil); err != nil {
			return nil, err
		}
	}
	p.log.Info("planned", "run_id", cmd.RunID, "year", cmd.Year, "gaps", len(plan.Gaps), "queued_elsewhere", len(queued),
		"estimated_calls", plan.Report.EstimatedCalls)
	return &streams.PlanReply{V: streams.SchemaVersion, RunID: cmd.RunID, Report: &plan.Report}, nil
}

// budget marks the gaps of a season the mirror serves, reads the remaining
// quota into the report and, with --max-calls, keeps the gaps whose
// estimated calls fit (in order) and defers the others. It returns the
// gaps to publish, with the run id set.
func (p *Planner) budget(ctx context.Context, cmd streams.PlanCommand, plan *gaps.Plan) ([]streams.Gap, error) {
	host := upstream.LiveTiming
	if e, err := p.arc.Stat(ctx, upstream.LiveTiming, schedule.IndexPath(cmd.Year)); err == nil && e.Origin == upstream.Mirror && e.Status == http.StatusOK {
		host = upstream.Mirror
	}
	remaining := -1
	if p.quota != nil {
		n, err := p.quota.Remaining(ctx, host)
		if err != nil {
			return nil, err
		}
		remaining = n
		plan.Report.Quota = append(plan.Report.Quota, streams.QuotaLeft{Host: host, Remaining: n, MaxCalls: p.quota.Limit(host).PerWindow})
	}
	allowed := -1 // no cap
	if cmd.MaxCalls > 0 {
		allowed = cmd.MaxCalls
		if remaining >= 0 && remaining < allowed {
			allowed = remaining
		}
	}
	var out []streams.Gap
	var kept []streams.MissingKinds
	used, least := 0, 0
	for i, g := range plan.Gaps {
		calls := plan.Report.SessionGaps[i].Calls
		if allowed >= 0 && used+calls > allowed {
			plan.Report.Deferred = append(plan.Report.Deferred, plan.Report.SessionGaps[i].SessionRef)
			continue
		}
		used += calls
		least += plan.Report.SessionGaps[i].MinCalls
		g.RunID = cmd.RunID
		g.Mirror = host == upstream.Mirror
		g.Notify = cmd.Notify
		out = append(out, g)
		kept = append(kept, plan.Report.SessionGaps[i])
	}
	if len(plan.Report.Deferred) > 0 {
		plan.Report.SessionGaps = kept
		plan.Report.EstimatedCalls, plan.Report.EstimatedMinCalls = used, least
	}
	return out, nil
}

// isPerSubjectLimit reports the GAPS rejection of a second pending gap for
// the same session (err_code 10077, maximum messages per subject).
func isPerSubjectLimit(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == 10077
}

// checkScope validates round and session against the known schedule.
func (p *Planner) checkScope(ctx context.Context, cmd streams.PlanCommand) error {
	rounds, err := season.Rounds(ctx, p.pool, cmd.Year)
	if err != nil {
		return err
	}
	if cmd.Round == nil {
		return nil
	}
	if !slices.Contains(rounds, *cmd.Round) {
		var champ, tests []int
		for _, r := range rounds {
			if r > 0 {
				champ = append(champ, r)
			} else {
				tests = append(tests, r)
			}
		}
		if len(champ) == 0 {
			return badCommand("%d has no rounds in the schedule", cmd.Year)
		}
		testing := "no testing events"
		if len(tests) > 0 {
			testing = fmt.Sprintf("testing events T1 to T%d (rounds -1 to %d)", len(tests), -len(tests))
		}
		return badCommand("round %d does not exist in %d: the season has rounds %d to %d and %s", *cmd.Round, cmd.Year, champ[0], champ[len(champ)-1], testing)
	}
	if cmd.Session == "" {
		return nil
	}
	names, err := season.SessionNames(ctx, p.pool, cmd.Year, *cmd.Round)
	if err != nil {
		return err
	}
	if !slices.Contains(names, cmd.Session) {
		return badCommand("round %d of %d has no %s: its sessions are %s", *cmd.Round, cmd.Year, cmd.Session, strings.Join(names, ", "))
	}
	return nil
}
