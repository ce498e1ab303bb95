package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/pkg/circuit"
	"github.com/paddock-f1/paddock/pkg/circuitdb"
	"github.com/paddock-f1/paddock/pkg/drivers"
	"github.com/paddock-f1/paddock/pkg/driversdb"
	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/laps"
	"github.com/paddock-f1/paddock/pkg/lapsdb"
	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/pkg/weather"
	"github.com/paddock-f1/paddock/pkg/weatherdb"
)

func cmdExport(ctx context.Context, cfg config, args []string) error {
	if len(args) == 0 {
		return usageError("export what? use: paddock export weather|laps|drivers --year Y --round R --session NAME, or corners|marshal-lights|marshal-sectors --year Y --round R")
	}
	what, args := args[0], args[1:]
	fs := flag.NewFlagSet("export "+what, flag.ContinueOnError)
	year := fs.Int("year", 0, "season (required)")
	round := fs.Int("round", 0, "round (required)")
	session := fs.String("session", "", `session: "Qualifying", "Practice 2", ... or Q, FP2, SQ, SS, S, R (required)`)
	out := fs.String("out", "-", "file to write; - for standard output")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError("%v", err)
	}
	markerKind, perEvent := map[string]string{
		"corners": circuitdb.Corners, "marshal-lights": circuitdb.MarshalLights, "marshal-sectors": circuitdb.MarshalSectors,
	}[what]
	switch {
	case perEvent:
		if *year == 0 || *round == 0 {
			return usageError("export %s needs --year and --round", what)
		}
	case what == "weather" || what == "laps" || what == "drivers":
		if *year == 0 || *round == 0 || *session == "" {
			return usageError("export %s needs --year, --round and --session", what)
		}
	default:
		return usageError("cannot export %q: use weather, laps, drivers, corners, marshal-lights or marshal-sectors", what)
	}
	name := ""
	if !perEvent {
		var err error
		if name, err = f1.ParseSession(*session); err != nil {
			return usageError("%v", err)
		}
	}
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	// write renders the stored rows; n is how many there are.
	var write func(io.Writer) error
	var n int
	switch what {
	case "weather":
		samples, err := weatherdb.Read(ctx, pool, *year, *round, name)
		if err != nil {
			return err
		}
		n, write = len(samples), func(w io.Writer) error { return weather.WriteCSV(w, samples) }
	case "laps":
		rows, err := lapsdb.Read(ctx, pool, *year, *round, name)
		if err != nil {
			return err
		}
		n, write = len(rows), func(w io.Writer) error { return laps.WriteCSV(w, rows) }
	case "drivers":
		ds, err := driversdb.Read(ctx, pool, *year, *round, name)
		if err != nil {
			return err
		}
		n, write = len(ds), func(w io.Writer) error { return drivers.WriteCSV(w, ds) }
	default:
		_, _, markers, err := circuitdb.Read(ctx, pool, *year, *round, markerKind)
		if errors.Is(err, circuitdb.ErrNoLayout) {
			return &exitError{code: 1, msg: fmt.Sprintf("no circuit layout stored for %d round %d: import it with 'paddock import --year %d --round %d --kinds circuit' (MultiViewer may not have it)",
				*year, *round, *year, *round)}
		}
		if err != nil {
			return err
		}
		n, write = len(markers), func(w io.Writer) error { return circuit.WriteCSV(w, markers) }
	}
	if n == 0 && !perEvent {
		var status, reason string
		err := pool.QueryRow(ctx, `SELECT status, error FROM extractions WHERE year=$1 AND round=$2 AND session=$3 AND kind=$4`,
			*year, *round, name, what).Scan(&status, &reason)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return &exitError{code: 1, msg: fmt.Sprintf("no %s stored for %d round %d %s: import it first with 'paddock import --year %d --round %d --session %q --kinds %s'",
				what, *year, *round, name, *year, *round, name, what)}
		case err != nil:
			return err
		case status != "done":
			return &exitError{code: 1, msg: fmt.Sprintf("%s of %d round %d %s is %s: %s", what, *year, *round, name, status, reason)}
		}
	}
	var w io.Writer = os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	if err := write(bw); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return bw.Flush()
}
