// Package laps derives FastF1's Laps table from the raw feeds of one
// session of the F1 live-timing archive, without any I/O.
//
// The derivation follows FastF1 (theOehrly/Fast-F1 @ b1c23c2, MIT) step by
// step so that the result agrees with fastf1.core.Laps cell by cell:
//
//  1. TimingData → laps per driver (lap boundaries from NumberOfLaps,
//     late-value attribution, sector/lap time reconstruction, lap end time
//     synchronisation, personal bests, race lap alignment) – [TimingStage].
//  2. TimingAppData → tyre stint messages – [TyreStage].
//  3. Session post-processing: tyre corrections and merge, lap start times
//     (incl. red-flag restarts), tyre life, positions, track status, speed
//     trap forward fill, accuracy flags, first race lap time from Jolpica,
//     generated laps for cars that retired on track, deleted laps from race
//     control messages.
//
// Not implemented: LapStartDate (needs car telemetry for t0) and the car
// data based end time of laps generated for cars that retired on track
// (FastF1 uses the first zero-speed sample; without telemetry it falls back
// to +150 s, as here).
package laps

import (
	"time"
)

// Input holds the raw feed bodies of one session (nil = not published/not
// fetched). Feed bodies are jsonStream files as served by the archive; the
// Jolpica bodies are the JSON documents of api.jolpi.ca.
type Input struct {
	// Year is the season; it selects FastF1's session classification
	// ("Sprint Qualifying" is race-like until 2023, quali-like from 2024).
	Year int
	// Session is FastF1's session name: "Practice 1".."Practice 3",
	// "Qualifying", "Sprint Shootout", "Sprint Qualifying", "Sprint", "Race".
	Session string

	TimingData, TimingAppData, SessionInfo, DriverList, TrackStatus, SessionStatus, RaceControlMessages, LapCount []byte

	// JolpicaLap1 is /ergast/f1/{y}/{r}/laps/1.json (race only).
	JolpicaLap1 []byte
	// JolpicaResults is the results/qualifying/sprint JSON FastF1 reads for
	// the session, if any (for practice sessions: the race results, used
	// for nothing but the driver list, as FastF1 does).
	JolpicaResults []byte
}

// Lap is one row of FastF1's Laps. Durations are session times (offsets
// from the start of the recording) or lap/sector durations, ms precision.
// nil = missing (NaT/NaN).
type Lap struct {
	// Time is the session time at which the lap ended.
	Time *time.Duration
	// Driver is the three-letter abbreviation; DriverNumber the racing number.
	Driver, DriverNumber string
	// LapTime is the lap's duration.
	LapTime *time.Duration
	// LapNumber counts the driver's laps from 1.
	LapNumber int
	// Stint counts tyre stints from 1 (nil before the first tyre message).
	Stint *int
	// PitOutTime and PitInTime are the session times of leaving and
	// entering the pit lane on this lap.
	PitOutTime, PitInTime *time.Duration
	// SectorNTime are sector durations, SectorNSessionTime the session
	// times at which the sectors were completed.
	Sector1Time, Sector2Time, Sector3Time, Sector1SessionTime, Sector2SessionTime, Sector3SessionTime *time.Duration
	// Speed trap values in km/h: intermediate 1 and 2, finish line, speed trap.
	SpeedI1, SpeedI2, SpeedFL, SpeedST *float64
	// IsPersonalBest marks the driver's personal best lap (nil on laps
	// generated for cars that retired on track, as in FastF1).
	IsPersonalBest *bool
	// Compound is the tyre compound ("nan" when the lap precedes the first
	// tyre message, "" when the driver has no tyre data: FastF1's strings).
	Compound string
	// TyreLife is the tyre age in laps at the end of this lap.
	TyreLife *float64
	// FreshTyre reports whether the tyre was new when fitted.
	FreshTyre *bool
	// Team is the team name.
	Team string
	// LapStartTime is the session time at which the lap started.
	LapStartTime *time.Duration
	// TrackStatus concatenates the track status codes active during the lap.
	TrackStatus string
	// Position is the race position at the end of the lap (race-like
	// sessions only).
	Position *int
	// Deleted marks laps deleted by race control (nil without messages);
	// DeletedReason says why.
	Deleted       *bool
	DeletedReason string
	// FastF1Generated marks laps that do not exist in the timing data.
	FastF1Generated bool
	// IsAccurate is FastF1's lap accuracy verdict.
	IsAccurate bool
}

// Result is the output of Derive.
type Result struct {
	// Laps in FastF1's row order.
	Laps []Lap
	// Warnings are the data problems FastF1 would log (integrity errors,
	// late data, tyre fixes, drivers without data, …).
	Warnings []string
}
