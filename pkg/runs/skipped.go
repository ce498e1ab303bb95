package runs

import (
	"context"
	"fmt"

	"github.com/paddock-f1/paddock/streams"
)

// skipped lists the run's done kinds that skipped feed lines, with how
// many and which: "2019/14/Qualifying weather: 1 line skipped
// (WeatherData.jsonStream: blank line 49)".
func (a *Accountant) skipped(ctx context.Context, year int, runID string) ([]string, error) {
	rows, err := a.pool.Query(ctx, `SELECT round, session, kind, skipped_lines, reason FROM run_items
		WHERE run_id=$1 AND status=$2 AND skipped_lines > 0 ORDER BY round, session, kind`, runID, streams.StatusDone)
	if err != nil {
		return nil, fmt.Errorf("runs: summarize %s: skipped lines: %w", runID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var round, n int
		var session, kind, reason string
		if err := rows.Scan(&round, &session, &kind, &n, &reason); err != nil {
			return nil, fmt.Errorf("runs: summarize %s: skipped lines: %w", runID, err)
		}
		out = append(out, fmt.Sprintf("%s %s: %s (%s)", streams.Key(year, round, session), kind, LinesSkipped(n), reason))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("runs: summarize %s: skipped lines: %w", runID, err)
	}
	return out, nil
}

// LinesSkipped says n skipped lines in words: "1 line skipped".
func LinesSkipped(n int) string {
	if n == 1 {
		return "1 line skipped"
	}
	return fmt.Sprintf("%d lines skipped", n)
}
