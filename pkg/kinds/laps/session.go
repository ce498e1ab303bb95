package laps

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paddock-f1/paddock/pkg/jsonwalk"
	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// status is one timestamped status value (SessionStatus or TrackStatus).
type status struct {
	t dur
	s string
}

// driverInfo is one entry of the session's driver list.
type driverInfo struct {
	number, tla, team, driverID, classified string
	position                                float64 // NaN when unknown
}

// sLap is a lap during the session stage.
type sLap struct {
	tLap
	compound     string
	tyreLife     float64 // NaN = missing
	stint        int     // -1 = missing
	fresh        bool
	lapStart     dur
	trackStatus  string
	position     int // 0 = missing
	tla, team    string
	generated    bool
	accurate     bool
	pbMissing    bool
	deleted      int // -1 nil, 0 false, 1 true
	deleteReason string
}

func (s *session) raceLike() bool {
	switch s.in.Session {
	case "Race", "Sprint":
		return true
	case "Sprint Qualifying":
		return s.in.Year <= 2023
	}
	return false
}

func (s *session) qualiLike() bool {
	switch s.in.Session {
	case "Qualifying", "Sprint Shootout":
		return true
	case "Sprint Qualifying":
		return s.in.Year > 2023
	}
	return false
}

// session carries the state of one Derive call.
type session struct {
	in          Input
	warnings    []string
	feedErr     error // the first optional feed that did not decode whole
	status      []status
	start       dur
	totalLaps   int // 0 = unknown
	track       []status
	hasTrack    bool
	drivers     []driverInfo
	lapsByDrv   map[string][]int
	laps        []sLap
	stage       *timingResult
	tyres       []TyreMsg
	rcmMessages []string
	hasRCM      bool
}

func (s *session) warn(format string, args ...any) {
	s.warnings = append(s.warnings, fmt.Sprintf(format, args...))
}

// Derive computes FastF1's Laps table for one session from its raw feeds.
// Optional feeds that are nil are treated as FastF1 treats an unavailable
// feed (the dependent step is skipped and a warning recorded). It returns
// an error when TimingData is absent (nil), and when any feed given has a
// line that does not decode, or is empty (a *livetiming.FormatError naming
// the feed and the line): laps are derived from whole feeds or not at all.
func Derive(in Input) (*Result, error) {
	if in.TimingData == nil {
		return nil, fmt.Errorf("laps: derive %d %s: no TimingData", in.Year, in.Session)
	}
	stage, err := timingStage(in.TimingData)
	if err != nil {
		return nil, fmt.Errorf("laps: derive %d %s: %w", in.Year, in.Session, err)
	}
	s := &session{in: in, stage: stage, start: nat}
	s.warnings = append(s.warnings, stage.warnings...)
	s.loadDrivers()
	s.loadStatus()
	s.loadTrackStatus()
	s.loadLapCount()
	if in.TimingAppData != nil {
		if s.tyres, err = TyreStage(in.TimingAppData); err != nil {
			return nil, fmt.Errorf("laps: derive %d %s: %w", in.Year, in.Session, err)
		}
	}
	s.buildLaps()
	s.addTrackStatus(s.laps)
	s.fillSpeeds()
	s.checkAccuracy()
	s.firstLapFromJolpica()
	s.retiredOnTrack()
	s.loadRCM()
	s.markDeleted()
	if s.feedErr != nil {
		return nil, fmt.Errorf("laps: derive %d %s: %w", in.Year, in.Session, s.feedErr)
	}
	out := &Result{Warnings: s.warnings, Laps: make([]Lap, len(s.laps))}
	for i := range s.laps {
		out.Laps[i] = s.laps[i].public()
	}
	return out, nil
}

func (l *sLap) public() Lap {
	out := l.tLap.public()
	out.Driver = l.tla
	out.Team = l.team
	if l.pbMissing {
		out.IsPersonalBest = nil
	}
	if l.stint >= 0 {
		v := l.stint
		out.Stint = &v
	}
	out.Compound = l.compound
	if !math.IsNaN(l.tyreLife) {
		v := l.tyreLife
		out.TyreLife = &v
	}
	fresh := l.fresh
	out.FreshTyre = &fresh
	out.LapStartTime = l.lapStart.ptr()
	out.TrackStatus = l.trackStatus
	if l.position > 0 {
		v := l.position
		out.Position = &v
	}
	if l.deleted >= 0 {
		v := l.deleted == 1
		out.Deleted = &v
	}
	out.DeletedReason = l.deleteReason
	out.FastF1Generated = l.generated
	out.IsAccurate = l.accurate
	return out
}

// optionalFeed decodes an optional feed, recording a warning when it is
// not available; one that does not decode whole is kept in s.feedErr (the
// first such), which fails Derive.
func (s *session) optionalFeed(name string, body []byte) []feedLine {
	if body == nil {
		s.warn("Failed to load %s: not available", name)
		return nil
	}
	lines, err := decodeFeed(name, body)
	if err != nil {
		if s.feedErr == nil {
			s.feedErr = err
		}
		return nil
	}
	return lines
}

// walkFeed walks the lines of an optional feed (see livetiming.Walk): walk
// reads each line's payload from p, to its end. A feed that does not
// decode whole is kept in s.feedErr (the first such, which fails Derive)
// and walkFeed returns false: what walk gathered from it is to be dropped.
func (s *session) walkFeed(name string, body []byte, walk func(t dur, p *jsonwalk.Doc)) bool {
	var p jsonwalk.Doc
	err := livetiming.Walk(name+".jsonStream", body, func(l livetiming.Line) error {
		p.Reset(l.Data)
		walk(dur(l.Offset), &p)
		p.End()
		return p.Err
	})
	if err != nil {
		if s.feedErr == nil {
			s.feedErr = err
		}
		return false
	}
	return true
}

// driverMember is one member of a DriverList line: a racing number and its
// update, both aliasing the line.
type driverMember struct{ name, val []byte }

// driverMembers reads a DriverList line (at p) into its members, in
// document order. decodable is false, as decoding the line into a map of
// objects fails, when the line is not an object, a member is neither an
// object nor null, or holds a number beyond float64's range; q is scratch.
func driverMembers(p, q *jsonwalk.Doc, members []driverMember) (_ []driverMember, decodable bool) {
	if p.Peek() != '{' {
		p.Skip()
		return members, false
	}
	decodable = true
	p.Open('{', "")
	for first := true; p.More('}', &first); {
		name := p.Key()
		c := p.Peek()
		val := p.Span()
		switch c {
		case 'n':
		case '{':
			q.Reset(val)
			decodable = numbersFit(q) && decodable
		default:
			decodable = false
		}
		members = append(members, driverMember{name, val})
	}
	return members, decodable && p.Err == nil
}

// numbersFit walks the value at q and reports whether every number in it
// fits a float64 (encoding/json fails on one that does not).
func numbersFit(q *jsonwalk.Doc) bool {
	ok := true
	switch c := q.Peek(); {
	case c == '{':
		q.Open('{', "")
		for first := true; q.More('}', &first); {
			q.Key()
			ok = numbersFit(q) && ok
		}
	case c == '[':
		q.Open('[', "")
		for first := true; q.More(']', &first); {
			ok = numbersFit(q) && ok
		}
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := strconv.ParseFloat(string(q.Span()), 64)
		ok = err == nil
	default:
		q.Skip()
	}
	return ok
}

// applyDriver applies one driver's DriverList update (an object, val) to d:
// a non-empty RacingNumber, a Tla, a TeamName, each when a string (the
// last occurrence of a name counts).
func applyDriver(q *jsonwalk.Doc, val []byte, d *driverInfo) {
	var number, tla, team []byte
	var hasTla, hasTeam bool
	q.Reset(val)
	q.Open('{', "")
	for first := true; q.More('}', &first); {
		name := string(q.Key())
		var v []byte
		isStr := q.Peek() == '"'
		if isStr {
			v = q.Str("")
		} else {
			q.Skip()
		}
		switch name {
		case "RacingNumber":
			number = v
		case "Tla":
			tla, hasTla = v, isStr
		case "TeamName":
			team, hasTeam = v, isStr
		}
	}
	if len(number) > 0 {
		d.number = string(number)
	}
	if hasTla {
		d.tla = string(tla)
	}
	if hasTeam {
		d.team = string(team)
	}
}

func (s *session) loadStatus() {
	for _, ln := range s.optionalFeed("SessionStatus", s.in.SessionStatus) {
		var m map[string]any
		if json.Unmarshal(ln.raw, &m) != nil {
			continue
		}
		v, ok := m["Status"]
		if !ok {
			continue
		}
		st, _ := v.(string)
		s.status = append(s.status, status{ln.t, st})
	}
	for _, st := range s.status {
		if st.s == "Started" {
			s.start = st.t
			break
		}
	}
	if !s.start.ok() {
		s.warn("Failed to determine `Session.session_start_time`")
	}
}

func (s *session) loadTrackStatus() {
	if s.in.TrackStatus == nil {
		s.warn("Failed to load track status data!")
		return
	}
	lines := s.optionalFeed("TrackStatus", s.in.TrackStatus)
	s.hasTrack = lines != nil
	for _, ln := range lines {
		var m map[string]any
		if json.Unmarshal(ln.raw, &m) != nil || m == nil {
			continue
		}
		st, _ := m["Status"].(string)
		s.track = append(s.track, status{ln.t, st})
	}
}

func (s *session) loadLapCount() {
	if !s.raceLike() || s.in.LapCount == nil {
		return
	}
	for _, ln := range s.optionalFeed("LapCount", s.in.LapCount) {
		var m map[string]any
		if json.Unmarshal(ln.raw, &m) != nil {
			continue
		}
		if f, ok := num(m["TotalLaps"]); ok {
			s.totalLaps = int(f)
		}
	}
}

// loadDrivers builds the driver list like FastF1's results: the F1
// DriverList (declarations in the first 60 minutes) joined with Jolpica
// results, ordered by result position where Jolpica provides one.
func (s *session) loadDrivers() {
	var f1 []driverInfo
	if s.in.DriverList != nil {
		idx := map[string]int{}
		var members []driverMember
		var q jsonwalk.Doc
		ok := s.walkFeed("DriverList", s.in.DriverList, func(t dur, p *jsonwalk.Doc) {
			if t > dur(60*time.Minute) {
				p.Skip()
				return
			}
			var decodable bool
			if members, decodable = driverMembers(p, &q, members[:0]); !decodable {
				return
			}
			for i, mb := range members {
				v := mb.val // a name sent twice counts with its last value
				for _, later := range members[i+1:] {
					if bytes.Equal(later.name, mb.name) {
						v = later.val
					}
				}
				if v[0] == 'n' {
					continue // null
				}
				j, ok := idx[string(mb.name)]
				if !ok {
					j = len(f1)
					idx[string(mb.name)] = j
					f1 = append(f1, driverInfo{number: string(mb.name), position: math.NaN()})
				}
				applyDriver(&q, v, &f1[j])
			}
		})
		if !ok {
			f1 = nil
		}
	}
	erg := s.jolpicaDrivers()
	switch {
	case len(f1) == 0 && len(erg) == 0:
		s.warn("Failed to load driver list and session results!")
	case len(f1) == 0:
		s.drivers = erg
	case len(erg) == 0:
		s.drivers = f1
	default:
		byNum := map[string]driverInfo{}
		for _, e := range erg {
			byNum[e.number] = e
		}
		outer := s.raceLike() || s.in.Session == "Qualifying"
		var out []driverInfo
		seen := map[string]bool{}
		for _, d := range f1 {
			if e, ok := byNum[d.number]; ok {
				d.driverID, d.classified, d.position = e.driverID, e.classified, e.position
			}
			seen[d.number] = true
			out = append(out, d)
		}
		if outer {
			for _, e := range erg {
				if !seen[e.number] {
					e.position = math.NaN()
					out = append(out, e)
				}
			}
			// an outer join orders by driver number (as strings)
			sort.SliceStable(out, func(i, j int) bool { return out[i].number < out[j].number })
		}
		s.drivers = out
	}
	sort.SliceStable(s.drivers, func(i, j int) bool {
		a, b := s.drivers[i].position, s.drivers[j].position
		if math.IsNaN(b) {
			return !math.IsNaN(a)
		}
		return !math.IsNaN(a) && a < b
	})
}

// jolpicaDrivers reads the driver entries of the Jolpica results body.
func (s *session) jolpicaDrivers() []driverInfo {
	if s.in.JolpicaResults == nil {
		return nil
	}
	isResults := s.raceLike() || s.qualiLike()
	if strings.HasPrefix(s.in.Session, "Sprint") && s.qualiLike() {
		return nil // Jolpica has no quali-like sprint results
	}
	var doc struct {
		MRData struct {
			RaceTable struct {
				Races []struct {
					Results, QualifyingResults, SprintResults []struct {
						Number, Position, PositionText string
						Driver                         struct{ DriverID, Code string }
						Constructor                    struct{ Name string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(s.in.JolpicaResults, &doc); err != nil {
		s.warn("Failed to load result data from Ergast! (%v)", err)
		return nil
	}
	races := doc.MRData.RaceTable.Races
	if len(races) == 0 {
		return nil
	}
	r := races[0]
	res := r.Results
	if len(r.QualifyingResults) > 0 {
		res = r.QualifyingResults
	}
	if len(r.SprintResults) > 0 {
		res = r.SprintResults
	}
	var out []driverInfo
	for _, e := range res {
		d := driverInfo{number: e.Number, tla: e.Driver.Code, team: e.Constructor.Name,
			driverID: e.Driver.DriverID, position: math.NaN()}
		if isResults {
			var p float64
			if _, err := fmt.Sscanf(e.Position, "%g", &p); err == nil {
				d.position = p
			}
			d.classified = e.PositionText
		}
		out = append(out, d)
	}
	return out
}

// buildLaps merges timing laps with tyre data per driver (FastF1
// `_load_laps_data`).
func (s *session) buildLaps() {
	drivers := s.drivers
	lapDrv := map[string][]tLap{}
	for _, l := range s.stage.laps {
		lapDrv[l.driver] = append(lapDrv[l.driver], l)
	}
	tyreDrv := map[string][]TyreMsg{}
	for _, m := range s.tyres {
		tyreDrv[m.Driver] = append(tyreDrv[m.Driver], m)
	}
	if len(drivers) == 0 {
		var nums []string
		for d := range lapDrv {
			if len(tyreDrv[d]) > 0 {
				nums = append(nums, d)
			}
		}
		sort.Strings(nums)
		for _, n := range nums {
			drivers = append(drivers, driverInfo{number: n, position: math.NaN()})
		}
		s.drivers = drivers
		s.warn("Generating minimal driver list from timing data.")
	}
	minTime := nat
	for _, l := range s.stage.laps {
		if l.time.ok() && (!minTime.ok() || l.time < minTime) {
			minTime = l.time
		}
	}
	aborted := false
	for _, st := range s.status {
		if st.s == "Aborted" {
			aborted = true
		}
	}
	for _, drv := range drivers {
		d1 := lapDrv[drv.number]
		d2 := tyreDrv[drv.number]
		stints := map[int]bool{}
		for _, m := range d2 {
			stints[m.Stint] = true
		}
		if len(d2) != len(stints) {
			var splits []dur
			for _, l := range d1 {
				if l.pitIn.ok() {
					splits = append(splits, l.time)
				}
			}
			d2 = s.fixTyres(drv.number, d2, splits)
		}
		var res []sLap
		switch {
		case len(d1) == 0:
			if drv.classified == "W" {
				continue
			}
			if !s.raceLike() || len(d2) == 0 {
				s.warn("No lap data for driver %s", drv.number)
				continue
			}
			l := sLap{tLap: emptyTLap(), generated: true, stint: 0, deleted: -1}
			l.driver, l.number, l.time = drv.number, 1, minTime
			l.compound = compoundOf(d2[0].Compound)
			l.tyreLife = d2[0].StartLaps
			l.fresh = d2[0].New != nil && *d2[0].New
			res = append(res, l)
		case len(d2) == 0:
			for _, t := range d1 {
				res = append(res, sLap{tLap: t, compound: "", tyreLife: math.NaN(), stint: 0, deleted: -1})
			}
			s.warn("No tyre data for driver %s", drv.number)
		default:
			j := -1
			for _, t := range d1 {
				for j+1 < len(d2) && t.time.ok() && dur(d2[j+1].Time) <= t.time {
					j++
				}
				l := sLap{tLap: t, deleted: -1}
				if j < 0 {
					l.compound, l.tyreLife, l.stint, l.fresh = "nan", math.NaN(), -1, true
				} else {
					m := d2[j]
					l.compound = compoundOf(m.Compound)
					l.tyreLife, l.stint = m.StartLaps, m.Stint
					l.fresh = m.New != nil && *m.New
				}
				res = append(res, l)
			}
		}
		for i := range res {
			if i == 0 && res[i].number == 1 && lt(res[i].pitOut, s.start) {
				res[i].pitOut = nat
			}
		}
		// lap start times
		for i := range res {
			switch {
			case i > 0:
				res[i].lapStart = res[i-1].time
			case s.raceLike():
				res[i].lapStart = s.start
			default:
				res[i].lapStart = nat
			}
		}
		if aborted {
			isAborted := false
			for _, st := range s.status {
				if isAborted && st.s == "Started" {
					isAborted = false
					idx := -1
					for i := range res {
						if lt(st.t, res[i].pitOut) {
							idx = i
							break
						}
					}
					if idx < 0 {
						continue
					}
					if s.raceLike() {
						if !res[idx].lapTime.ok() {
							res[idx].lapStart = st.t
						}
					} else {
						res[idx].lapStart = nat
					}
				} else if st.s == "Aborted" {
					isAborted = true
				}
			}
		}
		for i := range res {
			if !res[i].lapStart.ok() && res[i].pitOut.ok() {
				res[i].lapStart = res[i].pitOut
			}
		}
		// tyre life counts laps within each stint
		count := map[int]int{}
		for i := range res {
			if res[i].stint < 0 {
				continue
			}
			count[res[i].stint]++
			res[i].tyreLife += float64(count[res[i].stint])
		}
		for i := range res {
			if res[i].stint >= 0 {
				res[i].stint++
			}
			res[i].tla, res[i].team = drv.tla, drv.team
			res[i].driver = drv.number
		}
		s.laps = append(s.laps, res...)
	}
	if s.raceLike() {
		s.assignPositions()
	}
}

// compoundOf renders a matched message's compound as FastF1's str column
// does (a message without compound becomes "None").
func compoundOf(c *string) string {
	if c == nil {
		return "None"
	}
	return *c
}

// assignPositions ranks laps of equal lap number by end time (race-like).
func (s *session) assignPositions() {
	count := map[string]int{}
	for _, l := range s.laps {
		count[l.tla]++
	}
	byLap := map[int][]int{}
	for i, l := range s.laps {
		if l.generated && count[l.tla] == 1 {
			continue
		}
		byLap[l.number] = append(byLap[l.number], i)
	}
	for _, idx := range byLap {
		sort.SliceStable(idx, func(a, b int) bool {
			ta, tb := s.laps[idx[a]].time, s.laps[idx[b]].time
			if !tb.ok() {
				return ta.ok()
			}
			return ta.ok() && ta < tb
		})
		for p, i := range idx {
			s.laps[i].position = p + 1
		}
	}
}

// fixTyres applies FastF1's tyre data corrections for one driver whose
// stints have several messages: bunched messages at a race start are
// re-timed into their stint, stint counters that jump without a pit stop are
// corrected, and the messages of each stint are merged into one.
func (s *session) fixTyres(drv string, d2 []TyreMsg, splits []dur) []TyreMsg {
	msgs := append([]TyreMsg(nil), d2...)
	brackets := append(append([]dur{0}, splits...), dur(24*time.Hour))
	if s.raceLike() && len(splits) > 0 && s.start.ok() {
		early := false
		for _, m := range msgs {
			if dur(m.Time) < s.start {
				early = true
			}
		}
		if !early {
			first := msgs[0].Time
			var at []int
			seen := map[int]bool{}
			for _, m := range msgs {
				if m.Time == first && !seen[m.Stint] {
					seen[m.Stint] = true
					at = append(at, m.Stint)
				}
			}
			if len(at) > 1 {
				for _, n := range at {
					if n >= len(brackets) {
						continue
					}
					for i := range msgs {
						if msgs[i].Stint == n && msgs[i].Time == first {
							msgs[i].Time = time.Duration(brackets[n]) + time.Millisecond
						}
					}
				}
			}
		}
	}
	stint, fixed := 0, false
	for i := 0; i+1 < len(brackets); i++ {
		t0, t1 := brackets[i], brackets[i+1]
		any := false
		for k := range msgs {
			mt := dur(msgs[k].Time)
			if mt < t0 || mt > t1 {
				continue
			}
			if msgs[k].Stint > stint {
				msgs[k].Stint = stint
				fixed = true
			}
			if msgs[k].Stint == stint {
				any = true
			}
		}
		if any {
			stint++
		}
	}
	if fixed {
		s.warn("Fixed incorrect tyre stint information for driver '%s'", drv)
	}
	var out []TyreMsg
	pos := map[int]int{}
	for _, m := range msgs {
		i, ok := pos[m.Stint]
		if !ok {
			pos[m.Stint] = len(out)
			out = append(out, m)
			continue
		}
		c := &out[i]
		if m.Compound != nil {
			c.Compound = m.Compound
		}
		if m.New != nil {
			c.New = m.New
		}
		if !math.IsNaN(m.StartLaps) {
			c.StartLaps = m.StartLaps
		}
		if !math.IsNaN(m.TotalLaps) {
			c.TotalLaps = m.TotalLaps
		}
	}
	return out
}

// addTrackStatus sets TrackStatus: every status active while the lap ran.
func (s *session) addTrackStatus(laps []sLap) {
	if !s.hasTrack {
		return
	}
	apply := func(l *sLap, st string) {
		if !strings.Contains(l.trackStatus, st) {
			l.trackStatus += st
		}
	}
	for i := range laps {
		l := &laps[i]
		l.trackStatus = ""
		if len(s.track) == 0 {
			continue
		}
		for k := 0; k+1 < len(s.track); k++ {
			t, nt := s.track[k].t, s.track[k+1].t
			le := func(a, b dur) bool { return a.ok() && b.ok() && a <= b }
			if (le(t, l.time) && le(l.time, nt)) || (le(t, l.lapStart) && le(l.lapStart, nt)) ||
				(le(l.lapStart, t) && le(nt, l.time)) {
				apply(l, s.track[k].s)
			}
		}
		last := s.track[len(s.track)-1]
		if l.time.ok() && last.t <= l.time {
			apply(l, last.s)
		}
	}
}

// fillSpeeds forward-fills speed traps per driver (equal consecutive values
// are not re-sent), except on generated and red-flag laps; the finish line
// trap also not on in-laps.
func (s *session) fillSpeeds() {
	start := 0
	for start < len(s.laps) {
		end := start
		for end < len(s.laps) && s.laps[end].driver == s.laps[start].driver {
			end++
		}
		var last [4]float64
		for k := range last {
			last[k] = math.NaN()
		}
		for i := start; i < end; i++ {
			l := &s.laps[i]
			filled := l.speed
			for k := 0; k < 4; k++ {
				if math.IsNaN(filled[k]) {
					filled[k] = last[k]
				}
				if !math.IsNaN(l.speed[k]) {
					last[k] = l.speed[k]
				}
			}
			ok := !l.generated && !strings.Contains(l.trackStatus, "5")
			if ok {
				l.speed[0], l.speed[1], l.speed[3] = filled[0], filled[1], filled[3]
				if !l.pitIn.ok() {
					l.speed[2] = filled[2]
				}
			}
		}
		start = end
	}
}

// secs converts to float seconds like pandas' total_seconds.
func secs(d dur) float64 { return float64(d) / 1e9 }

// checkAccuracy sets IsAccurate (FastF1 `_check_lap_accuracy`).
func (s *session) checkAccuracy() {
	var prev *sLap
	for i := range s.laps {
		l := &s.laps[i]
		if i == 0 || s.laps[i-1].driver != l.driver {
			prev = nil
		}
		ts := l.trackStatus
		c1 := !l.pitIn.ok() && !l.pitOut.ok() && !l.generated &&
			(ts == "1" || ts == "2" || ts == "12" || ts == "21") &&
			l.lapTime.ok() && l.sec[0].ok() && l.sec[1].ok() && l.sec[2].ok()
		c2 := false
		if c1 {
			sum := l.sec[0] + l.sec[1] + l.sec[2]
			c2 = math.Abs(secs(sum)-secs(l.lapTime)) <= 0.003
		}
		c3 := prev == nil || prev.trackStatus != "4"
		c4 := true
		if l.time.ok() && l.lapTime.ok() && prev != nil && prev.time.ok() {
			c4 = math.Abs(secs(l.time-prev.time)-secs(l.lapTime)) <= 0.003
		}
		l.accurate = c1 && c2 && c3 && c4
		prev = l
	}
}

// firstLapFromJolpica sets lap 1 lap times of a race from Jolpica, which
// the live timing lacks.
func (s *session) firstLapFromJolpica() {
	if s.in.Session != "Race" {
		return
	}
	var doc struct {
		MRData struct {
			RaceTable struct {
				Races []struct {
					Laps []struct {
						Timings []struct {
							DriverID string `json:"driverId"`
							Time     string `json:"time"`
						}
					}
				}
			}
		}
	}
	if s.in.JolpicaLap1 == nil || json.Unmarshal(s.in.JolpicaLap1, &doc) != nil ||
		len(doc.MRData.RaceTable.Races) == 0 || len(doc.MRData.RaceTable.Races[0].Laps) == 0 {
		s.warn("Cannot load lap times for first lap from Ergast. Timing data is not available for this session.")
		return
	}
	num := map[string]string{}
	for _, d := range s.drivers {
		if d.driverID != "" {
			num[d.driverID] = d.number
		}
	}
	for _, t := range doc.MRData.RaceTable.Races[0].Laps[0].Timings {
		drv, ok := num[t.DriverID]
		if !ok {
			continue
		}
		for i := range s.laps {
			if s.laps[i].number == 1 && s.laps[i].driver == drv {
				s.laps[i].lapTime = parseClock(t.Time)
			}
		}
	}
}

// retiredOnTrack appends a generated last lap for drivers whose last lap is
// not an in-lap when the session is aborted or finished later
// (FastF1 `_fix_missing_laps_retired_on_track`; without car data the lap
// ends at the abort time or 150 s after the previous lap).
func (s *session) retiredOnTrack() {
	var added []sLap
	start := 0
	for start < len(s.laps) {
		end := start
		for end < len(s.laps) && s.laps[end].driver == s.laps[start].driver {
			end++
		}
		dl := s.laps[start:end]
		start = end
		last := dl[len(dl)-1]
		if len(dl) == 1 && last.generated {
			continue
		}
		ref := last.time
		if !ref.ok() {
			ref = last.lapStart
		}
		var next []status
		prevFinished := false
		for _, st := range s.status {
			if lt(ref, st.t) {
				next = append(next, st)
			} else if ref.ok() && st.t <= ref && st.s == "Finished" {
				prevFinished = true
			}
		}
		nextFinished := false
		for _, st := range next {
			if st.s == "Finished" {
				nextFinished = true
			}
		}
		maxLap := 0
		for _, l := range dl {
			maxLap = max(maxLap, l.number)
		}
		if s.totalLaps > 0 && maxLap == s.totalLaps {
			continue
		}
		if prevFinished || !nextFinished || last.pitIn.ok() {
			continue
		}
		if s.totalLaps > 0 && len(dl) >= s.totalLaps {
			continue
		}
		if len(dl) >= 2 && dl[len(dl)-2].pitIn.ok() && !last.pitOut.ok() {
			continue
		}
		endT := add(ref, dur(150*time.Second))
		if next[0].s == "Aborted" {
			endT = next[0].t
		}
		g := sLap{tLap: emptyTLap(), generated: true, pbMissing: true, deleted: -1}
		g.lapStart, g.time = last.time, endT
		g.driver, g.tla, g.team = last.driver, last.tla, last.team
		g.number, g.stint, g.compound = last.number+1, last.stint, last.compound
		g.tyreLife, g.fresh = last.tyreLife+1, last.fresh
		added = append(added, g)
	}
	if len(added) == 0 {
		return
	}
	s.addTrackStatus(added)
	s.laps = append(s.laps, added...)
	sort.SliceStable(s.laps, func(i, j int) bool {
		a, b := &s.laps[i], &s.laps[j]
		if a.driver != b.driver {
			return a.driver < b.driver
		}
		return a.number < b.number
	})
}

func (s *session) loadRCM() {
	if s.in.RaceControlMessages == nil {
		return
	}
	lines := s.optionalFeed("RaceControlMessages", s.in.RaceControlMessages)
	if lines == nil {
		return
	}
	s.hasRCM = true
	for _, ln := range lines {
		var top struct {
			Messages json.RawMessage
		}
		if json.Unmarshal(ln.raw, &top) != nil || len(top.Messages) == 0 {
			continue
		}
		type msg struct{ Message any }
		var list []msg
		switch top.Messages[0] {
		case '[':
			_ = json.Unmarshal(top.Messages, &list)
		case '{':
			var m map[string]msg
			if json.Unmarshal(top.Messages, &m) == nil {
				for _, k := range objectKeys(top.Messages) {
					list = append(list, m[k])
				}
			}
		}
		for _, e := range list {
			if str, ok := e.Message.(string); ok {
				s.rcmMessages = append(s.rcmMessages, str)
			}
		}
	}
}

var (
	deletedRE    = regexp.MustCompile(`^CAR (\d{1,2}) .* TIME (\d:\d\d\.\d\d\d) DELETED - (.*)`)
	reinstatedRE = regexp.MustCompile(`^CAR (\d{1,2}) .* TIME (\d:\d\d\.\d\d\d) .*REINSTATED.*`)
	clockRE      = regexp.MustCompile(`\d\d:\d\d:\d\d`)
)

// markDeleted sets Deleted/DeletedReason from race control messages.
func (s *session) markDeleted() {
	if !s.hasRCM {
		return
	}
	for i := range s.laps {
		s.laps[i].deleted = 0
	}
	type key struct {
		drv string
		t   dur
	}
	reinstated := map[key]bool{}
	for _, m := range s.rcmMessages {
		if g := reinstatedRE.FindStringSubmatch(m); g != nil {
			reinstated[key{g[1], parseClock(g[2])}] = true
		}
	}
	for _, m := range s.rcmMessages {
		g := deletedRE.FindStringSubmatch(m)
		if g == nil {
			continue
		}
		t := parseClock(g[2])
		if reinstated[key{g[1], t}] {
			continue
		}
		reason := clockRE.ReplaceAllString(g[3], "")
		for i := range s.laps {
			l := &s.laps[i]
			if l.driver == g[1] && eq(l.lapTime, t) {
				l.deleted, l.pb, l.pbMissing, l.deleteReason = 1, false, false, reason
			}
		}
	}
}
