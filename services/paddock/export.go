package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/kinds/circuit"
	"github.com/paddock-f1/paddock/pkg/store"
)

// exportUsage lists what can be exported, from the registry.
func exportUsage() string {
	var session, event []string
	for _, name := range kinds.ExportNames() {
		if e, _, _ := kinds.Export(name); e.PerEvent {
			event = append(event, name)
		} else {
			session = append(session, name)
		}
	}
	return fmt.Sprintf("use: paddock export %s --year Y --round R --session NAME, or %s --year Y --round R",
		strings.Join(session, "|"), strings.Join(event, "|"))
}

// exportHelp is what 'paddock export -h' says after the flags.
func exportHelp() string {
	var session, event []string
	for _, name := range kinds.ExportNames() {
		if e, _, _ := kinds.Export(name); e.PerEvent {
			event = append(event, name)
		} else {
			session = append(session, name)
		}
	}
	return fmt.Sprintf("WHAT is one of\n  per session (--year, --round, --session): %s\n  per event (--year, --round): %s\n",
		strings.Join(session, ", "), strings.Join(event, ", "))
}

// setupExport is 'paddock export WHAT'.
func setupExport(fs *flag.FlagSet, cl *cli) runFunc {
	year := fs.Int("year", 0, "season (required)")
	round := fs.Int("round", 0, "round (required)")
	session := fs.String("session", "", `session: "Qualifying", "Practice 2", ... or Q, FP2, SQ, SS, S, R (required for per-session exports)`)
	driver := fs.String("driver", "", "racing number of one driver (exports with drivers; default every driver)")
	lap := fs.String("lap", "", `lap number, or "fastest" (lap exports; default fastest)`)
	out := fs.String("out", "-", "file to write; - for standard output")
	return func(ctx context.Context, rest []string) error {
		switch len(rest) {
		case 0:
			return usageError("export what? %s", exportUsage())
		case 1:
		default:
			return usageError("unexpected argument %q: export one thing at a time (%s)", rest[1], exportUsage())
		}
		return cmdExport(ctx, cl, rest[0], exportArgs{year: *year, round: *round, session: *session, driver: *driver, lap: *lap, out: *out})
	}
}

// exportArgs are the parsed flags of an export.
type exportArgs struct {
	year, round               int
	session, driver, lap, out string
}

func cmdExport(ctx context.Context, cl *cli, what string, a exportArgs) error {
	exp, spec, ok := kinds.Export(what)
	switch {
	case !ok:
		if near := nearest(what, kinds.ExportNames()); near != "" {
			return usageError("cannot export %q: did you mean %q? %s", what, near, exportUsage())
		}
		return usageError("cannot export %q: %s", what, exportUsage())
	case exp.PerEvent && (a.year == 0 || a.round == 0):
		return usageError("export %s needs --year and --round", what)
	case !exp.PerEvent && (a.year == 0 || a.round == 0 || a.session == ""):
		return usageError("export %s needs --year, --round and --session", what)
	case a.driver != "" && !exp.Driver && !exp.Lap:
		return usageError("export %s has no --driver: it covers the whole session", what)
	case exp.Lap && a.driver == "":
		return usageError("export %s needs --driver (a racing number) and takes --lap N or --lap fastest", what)
	case a.lap != "" && !exp.Lap:
		return usageError("export %s has no --lap", what)
	}
	if a.lap == "" && exp.Lap {
		a.lap = "fastest"
	}
	key := f1.Key(a.year, a.round, "")
	if !exp.PerEvent {
		name, err := f1.ParseSession(a.session)
		if err != nil {
			return usageError("%v", err)
		}
		key.Session = name
	}
	pool, err := store.Open(ctx, cl.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()

	// Render into memory first: nothing is written when there is nothing
	// to export.
	var buf strings.Builder
	n, err := exp.Write(ctx, pool, kind.Query{SessionKey: key, Driver: a.driver, Lap: a.lap}, &buf)
	if errors.Is(err, circuit.ErrNoLayout) {
		return &exitError{code: 1, msg: fmt.Sprintf("no circuit layout stored for %d round %d: import it with 'paddock import --year %d --round %d --kinds circuit' (MultiViewer may not have it)",
			a.year, a.round, a.year, a.round)}
	}
	if err != nil {
		return err
	}
	if n == 0 && !exp.PerEvent {
		if err := explainEmpty(ctx, pool, key, spec.Name); err != nil {
			return err
		}
	}
	w := cl.out
	if a.out != "-" {
		f, err := os.Create(a.out)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	if _, err := io.WriteString(bw, buf.String()); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return bw.Flush()
}

// explainEmpty says why a session has no rows of kind: never imported, or
// imported as failed or unavailable. A kind done with zero rows (a session
// without any race control message) is not an error.
func explainEmpty(ctx context.Context, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, key f1.SessionKey, kindName string) error {
	var status, reason string
	err := pool.QueryRow(ctx, `SELECT status, error FROM extractions WHERE year=$1 AND round=$2 AND session=$3 AND kind=$4`,
		key.Year, key.Round, key.Session, kindName).Scan(&status, &reason)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return &exitError{code: 1, msg: fmt.Sprintf("no %s stored for %d round %d %s: import it first with 'paddock import --year %d --round %d --session %q --kinds %s'",
			kindName, key.Year, key.Round, key.Session, key.Year, key.Round, key.Session, kindName)}
	case err != nil:
		return err
	case status != "done":
		return &exitError{code: 1, msg: fmt.Sprintf("%s of %d round %d %s is %s: %s", kindName, key.Year, key.Round, key.Session, status, reason)}
	}
	return nil
}
