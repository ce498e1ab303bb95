package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/upstream"
)

// setupQuota is 'paddock quota': every upstream host's quota from the
// persisted ledgers, from NATS_URL or from the embedded server's data
// directory. No loader needs to run. It only reads, unless --set names
// limits to write into a host's ledger.
func setupQuota(fs *flag.FlagSet, cl *cli) runFunc {
	asJSON := fs.Bool("json", false, "print JSON")
	dataDir := fs.String("data-dir", cl.cfg.DataDir, "data directory of the embedded JetStream server (without NATS_URL)")
	var sets []quotaSet
	fs.Func("set", "rewrite a host's limits in its ledger, the one place every process reads them: HOST=CALLS[/MIN_INTERVAL], e.g.\n"+
		"livetiming=500/250ms; HOST is a host name or livetiming, mirror, jolpica, multiviewer, githubraw;\n"+
		"CALLS at least 1; an interval left out keeps the ledger's (repeat --set for more hosts)", func(v string) error {
		q, err := parseQuotaSet(v)
		if err == nil {
			sets = append(sets, q)
		}
		return err
	})
	window := fs.Duration("window", 0, "with --set: the window the calls count in, e.g. 1h (default: the ledger's, or PADDOCK_QUOTA_WINDOW for a new ledger)")
	return func(ctx context.Context, rest []string) error {
		if len(rest) > 0 {
			return usageError("unexpected argument %q", rest[0])
		}
		if *window < 0 || (*window == 0 && isFlagSet(fs, "window")) {
			return usageError("--window %s: want a window over 0, e.g. 1h", *window)
		}
		if *window > 0 && len(sets) == 0 {
			return usageError("--window applies to the hosts named with --set, e.g. --set livetiming=500 --window 1h")
		}
		return cmdQuota(ctx, cl, *asJSON, *dataDir, sets, *window)
	}
}

// quotaSet is one --set: a host's new calls per window and, when given,
// its minimum interval.
type quotaSet struct {
	host        string
	calls       int
	minInterval time.Duration
	hasInterval bool
}

// quotaHosts are the short names --set takes (those of PADDOCK_QUOTA_<HOST>).
var quotaHosts = map[string]string{
	"livetiming": upstream.LiveTiming, "mirror": upstream.Mirror, "jolpica": upstream.Jolpica,
	"multiviewer": upstream.MultiViewer, "githubraw": upstream.GitHubRaw,
}

// parseQuotaSet reads HOST=CALLS[/MIN_INTERVAL].
func parseQuotaSet(v string) (quotaSet, error) {
	bad := func(why string) error {
		return fmt.Errorf("%q: %s; want HOST=CALLS[/MIN_INTERVAL], e.g. livetiming=500/250ms", v, why)
	}
	host, limit, ok := strings.Cut(v, "=")
	if !ok || host == "" {
		return quotaSet{}, bad("no HOST=")
	}
	if full, ok := quotaHosts[strings.ToLower(host)]; ok {
		host = full
	} else if !strings.Contains(host, ".") {
		return quotaSet{}, bad(fmt.Sprintf("unknown host %q (livetiming, mirror, jolpica, multiviewer, githubraw or a host name)", host))
	}
	q := quotaSet{host: host}
	calls, interval, hasInterval := strings.Cut(limit, "/")
	n, err := strconv.Atoi(calls)
	if err != nil || n < 1 {
		return quotaSet{}, bad("CALLS must be a whole number of at least 1 (a ledger cannot hold \"unlimited\")")
	}
	q.calls = n
	if hasInterval {
		d, err := time.ParseDuration(interval)
		if err != nil || d < 0 {
			return quotaSet{}, bad(fmt.Sprintf("MIN_INTERVAL %q must be a duration of 0 or more, e.g. 250ms", interval))
		}
		q.minInterval, q.hasInterval = d, true
	}
	return q, nil
}

// isFlagSet reports whether name was given on the command line.
func isFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func cmdQuota(ctx context.Context, cl *cli, asJSON bool, dataDir string, sets []quotaSet, window time.Duration) error {
	cfg, log := cl.cfg, cl.log
	var js jetstream.JetStream
	if cfg.NATSURL != "" {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second) // fail fast when NATS is down
		defer cancel()
		nc, j, err := natsrv.JetStream(cctx, cfg.NATSURL, "paddock-quota", cfg.Quota.Replicas, log, cfg.NATSAuth)
		if err != nil {
			return err
		}
		defer nc.Close()
		js = j
	} else {
		srv, err := natsrv.Start(natsrv.Options{StoreDir: filepath.Join(absDir(dataDir), "jetstream")})
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		nc, err := srv.Connect("paddock-quota")
		if err != nil {
			return err
		}
		defer nc.Close()
		if js, err = jetstream.New(nc); err != nil {
			return err
		}
	}
	qcfg := cfg.Quota
	qcfg.ReadOnly, qcfg.Log = true, log
	gov, err := governor.New(ctx, js, qcfg, nil)
	if err != nil {
		return err
	}
	said := cl.out // what --set changed; standard error when standard output is JSON
	if asJSON {
		said = os.Stderr
	}
	for _, q := range sets {
		if err := setQuota(ctx, said, gov, q, window); err != nil {
			return err
		}
	}
	st, err := gov.Status(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(cl.out)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	fmt.Fprintf(cl.out, "%-30s %10s %9s %9s  %-20s %-8s %-12s %s\n", "host", "calls_made", "max_calls", "remaining", "next_reset", "window", "min_interval", "status")
	for _, h := range st {
		reset := "-"
		if h.NextReset != nil {
			reset = h.NextReset.UTC().Format(time.RFC3339)
		}
		status := h.Status
		if h.PausedUntil != nil {
			status += " (paused until " + h.PausedUntil.UTC().Format(time.RFC3339) + ")"
		}
		if !h.Ledger {
			status += " (no ledger yet: the first loader writes these limits)"
		}
		max := fmt.Sprint(h.MaxCalls)
		if h.MaxCalls == 0 {
			max = "unlimited"
		}
		fmt.Fprintf(cl.out, "%-30s %10d %9s %9d  %-20s %-8s %-12s %s\n", h.Host, h.CallsMade, max, h.Remaining, reset, h.Window, h.MinInterval, status)
	}
	return nil
}

// setQuota writes one --set into its host's ledger and tells w what
// changed and from what.
func setQuota(ctx context.Context, w io.Writer, gov *governor.Governor, q quotaSet, window time.Duration) error {
	cur, exists, err := gov.Ledger(ctx, q.host)
	if err != nil {
		return err
	}
	next := governor.HostLimit{Limit: governor.Limit{PerWindow: q.calls, MinInterval: cur.MinInterval}, Window: cur.Window}
	if q.hasInterval {
		next.MinInterval = q.minInterval
	}
	if window > 0 {
		next.Window = window
	}
	if exists && cur == next {
		fmt.Fprintf(w, "%s: unchanged, %s\n", q.host, cur)
		return nil
	}
	before, existed, err := gov.SetLimit(ctx, q.host, next)
	if err != nil {
		return err
	}
	if existed {
		fmt.Fprintf(w, "%s: limits changed from %s to %s\n", q.host, before, next)
	} else {
		fmt.Fprintf(w, "%s: ledger created with %s (it had none)\n", q.host, next)
	}
	return nil
}

// quotaHelp is what 'paddock quota -h' says after the flags.
func quotaHelp() string {
	return `The limits live with each host's ledger in JetStream: the first process that creates a
host's ledger writes its limits there (PADDOCK_QUOTA_<HOST> and PADDOCK_QUOTA_WINDOW, or the
defaults), and every process reads them there. A process started with other limits logs a
warning naming both and uses the ledger's. 'paddock quota' only reads; --set is the one way to
change a ledger's limits, and says what it changed and from what. Running loaders follow the
new limits without a restart.

  paddock quota --set livetiming=400                       # 400 calls per window, window and interval kept
  paddock quota --set jolpica=200/500ms --window 1h        # calls, minimum interval and window
`
}
