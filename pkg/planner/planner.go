// Package planner is paddock's planner: a NATS micro service that takes
// plan commands by request/reply, validates them, makes sure the season
// schedule is known (loading it through the loader when it is not),
// detects gaps, records the run, publishes one gap per session and answers
// with the gap report. It also writes loaded schedules to PostgreSQL.
package planner

import (
	"context"
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
	"github.com/paddock-f1/paddock/pkg/consume"
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
	// ScheduleWait bounds how long a dry run waits for an unknown season
	// schedule to be loaded; 2 minutes by default. A run waits as long as
	// the loader's queue and the quota make it, announcing why.
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
	// Status reads every host's quota and pause (waiting plans say why).
	Status(ctx context.Context) ([]governor.HostStatus, error)
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

// Serve registers the plan endpoint as a micro service, carries out the
// accepted commands (its share of the planner consumer) and consumes
// loaded schedules until ctx ends.
func (p *Planner) Serve(ctx context.Context) error {
	plans, err := streams.Consumer(ctx, p.js, streams.PlannerConsumer)
	if err != nil {
		return err
	}
	svc, err := micro.AddService(p.nc, micro.Config{
		Name:        streams.PlanService,
		Version:     "0.1.0",
		Description: "paddock planner: plan commands in, gap reports out",
		Endpoint: &micro.EndpointConfig{
			Subject: streams.PlanSubject,
			Handler: micro.HandlerFunc(func(req micro.Request) {
				// A dry run may wait for a schedule load: answer from a goroutine.
				go p.serveRequest(ctx, req)
			}),
		},
	})
	if err != nil {
		return fmt.Errorf("planner: add micro service: %w", err)
	}
	defer svc.Stop()
	done := make(chan error, 1)
	go func() {
		done <- consume.Run(ctx, plans, func(hctx context.Context, msg jetstream.Msg) error {
			return p.HandleAccepted(hctx, ctx, msg)
		}, p.log, consume.Options{Concurrency: 8, Heartbeat: streams.PlannerHeartbeat,
			Name: streams.PlannerConsumer, DeadLetters: p.js})
	}()
	err = p.consumeSchedules(ctx)
	return errors.Join(err, <-done)
}

func (p *Planner) serveRequest(ctx context.Context, req micro.Request) {
	var cmd streams.PlanCommand
	if err := streams.Decode(req.Data(), &cmd); err != nil {
		_ = req.Error("400", "plan command is not valid JSON: "+err.Error(), nil)
		return
	}
	reply, err := p.Accept(ctx, cmd)
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
	if cmd.ArchiveOnly && cmd.Refetch {
		return badCommand("an archive-only plan (paddock replay) asks no upstream: it cannot refetch; leave --refetch out")
	}
	kindList, err := kinds.Parse(cmd.Kinds)
	if err != nil {
		return badCommand("%v", err)
	}
	cmd.Kinds = kindList
	return nil
}

// Accept takes a plan command. A command it refuses publishes nothing. A
// dry run is planned at once and answered with its gap report. Any other
// command is recorded in PLANS and answered with its run id: from then on
// it is carried out whole by whichever planner takes it (HandleAccepted),
// and the run's planned event carries its gap report.
func (p *Planner) Accept(ctx context.Context, cmd streams.PlanCommand) (*streams.PlanReply, error) {
	now := p.cfg.Now()
	if err := Validate(&cmd, now); err != nil {
		return nil, err
	}
	if cmd.DryRun {
		return p.dryRun(ctx, cmd)
	}
	if cmd.RunID == "" {
		cmd.RunID = streams.NewRunID(now)
	} else if strings.ContainsAny(cmd.RunID, ". *>") {
		return nil, badCommand("run id %q must not contain dots, spaces or wildcards", cmd.RunID)
	}
	// Refuse a round or session the known schedule lacks at once; with the
	// schedule unknown (or the database away) the run checks it later.
	if known, err := season.Known(ctx, p.pool, cmd.Year); err == nil && known && !cmd.Refetch {
		var ce *CommandError
		if err := p.checkScope(ctx, cmd); errors.As(err, &ce) {
			return nil, err
		}
	}
	if _, err := p.js.Publish(ctx, streams.PlanAccepted(cmd.RunID), streams.Encode(cmd),
		jetstream.WithMsgID(streams.MsgID(cmd.RunID, "accepted"))); err != nil {
		return nil, fmt.Errorf("planner: record the command: %w", err)
	}
	p.log.Info("plan accepted", "run_id", cmd.RunID, "year", cmd.Year)
	return &streams.PlanReply{V: streams.SchemaVersion, RunID: cmd.RunID, Accepted: true}, nil
}

// dryRun answers cmd with its gap report and records nothing (a season
// whose schedule is unknown still has its schedule loaded, never a
// session).
func (p *Planner) dryRun(ctx context.Context, cmd streams.PlanCommand) (*streams.PlanReply, error) {
	cmd.RunID = streams.NewRunID(p.cfg.Now())
	known, err := season.Known(ctx, p.pool, cmd.Year)
	if err != nil {
		return nil, err
	}
	if !known {
		wctx, cancel := context.WithTimeout(ctx, p.cfg.ScheduleWait)
		defer cancel()
		if err := p.loadSchedule(wctx, ctx, cmd, false); err != nil {
			if wctx.Err() != nil && ctx.Err() == nil {
				return nil, fmt.Errorf("planner: the %d season schedule was not loaded within %s (is the loader running, or paused by the rate governor? 'paddock quota' tells): %w", cmd.Year, p.cfg.ScheduleWait, err)
			}
			return nil, err
		}
	}
	plan, err := p.detect(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if _, err := p.budget(ctx, cmd, plan); err != nil {
		return nil, err
	}
	return &streams.PlanReply{V: streams.SchemaVersion, Report: &plan.Report}, nil
}

// detect checks cmd's scope against the known schedule and detects its
// gaps.
func (p *Planner) detect(ctx context.Context, cmd streams.PlanCommand) (*gaps.Plan, error) {
	if err := p.checkScope(ctx, cmd); err != nil {
		return nil, err
	}
	sc := gaps.Scope{Year: cmd.Year, Session: cmd.Session, Kinds: cmd.Kinds, Force: cmd.Force, Refetch: cmd.Refetch, ArchiveOnly: cmd.ArchiveOnly}
	if cmd.Round != nil {
		sc.Round = *cmd.Round
	}
	return gaps.Detect(ctx, p.pool, p.arc, sc, p.cfg.Now())
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
