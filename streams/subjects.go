package streams

import "fmt"

// PlanAccepted is the PLANS subject recording an accepted command of run.
func PlanAccepted(runID string) string { return "f1.plan.accepted." + runID }

// SessionGap is the GAPS subject of one session; code is the session's
// short code (FP1, Q, SQ, SS, S, R).
func SessionGap(year, round int, code string) string {
	return fmt.Sprintf("f1.gap.%d.%d.%s", year, round, code)
}

// ScheduleGap is the GAPS subject asking the loader for a season schedule.
func ScheduleGap(year int) string { return fmt.Sprintf("f1.gap.%d.schedule", year) }

// SessionLoaded is the LOADED subject of a session manifest.
func SessionLoaded(year, round int, code string) string {
	return fmt.Sprintf("f1.session.loaded.%d.%d.%s", year, round, code)
}

// ScheduleLoaded is the LOADED subject of a season schedule manifest.
func ScheduleLoaded(year int) string { return fmt.Sprintf("f1.schedule.loaded.%d", year) }

// Extracted is the EVENTS subject of an extraction outcome.
func Extracted(kind string, year, round int, code string) string {
	return fmt.Sprintf("f1.extracted.%s.%d.%d.%s", kind, year, round, code)
}

// ScheduleExtracted is the EVENTS subject announcing a season schedule
// written to PostgreSQL.
func ScheduleExtracted(year int) string { return fmt.Sprintf("f1.extracted.schedule.%d", year) }

// RunEvent is the EVENTS subject of a run's lifecycle event (planned,
// load, completed).
func RunEvent(runID, event string) string { return "f1.run." + runID + "." + event }

// Run lifecycle event names.
const (
	RunPlanned   = "planned"
	RunLoad      = "load"
	RunCall      = "call"
	RunPaused    = "paused"
	RunCompleted = "completed"
)
