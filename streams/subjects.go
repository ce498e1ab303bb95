package streams

import "fmt"

// PlanAccepted is the PLANS subject recording an accepted command of run;
// the planner consumer carries out every command recorded there.
func PlanAccepted(runID string) string { return "f1.plan.accepted." + runID }

// SessionGap is the GAPS subject of one session.
func SessionGap(k SessionKey) string {
	return fmt.Sprintf("f1.gap.%d.%d.%s", k.Year, k.Round, k.Code())
}

// ScheduleGap is the GAPS subject asking the loader for a season schedule.
func ScheduleGap(year int) string { return fmt.Sprintf("f1.gap.%d.schedule", year) }

// SessionLoaded is the LOADED subject of a session manifest.
func SessionLoaded(k SessionKey) string {
	return fmt.Sprintf("f1.session.loaded.%d.%d.%s", k.Year, k.Round, k.Code())
}

// ScheduleLoaded is the LOADED subject of a season schedule manifest.
func ScheduleLoaded(year int) string { return fmt.Sprintf("f1.schedule.loaded.%d", year) }

// Extracted is the EVENTS subject of an extraction outcome.
func Extracted(kind string, k SessionKey) string {
	return fmt.Sprintf("f1.extracted.%s.%d.%d.%s", kind, k.Year, k.Round, k.Code())
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
	RunWaiting   = "waiting"
	RunLoad      = "load"
	RunCall      = "call"
	RunPaused    = "paused"
	RunCompleted = "completed"
)
