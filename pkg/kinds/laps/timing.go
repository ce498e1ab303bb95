package laps

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// fiveSec is the window within which late values still belong to the
// previous lap (and a pit exit to the next lap).
const fiveSec = dur(5 * time.Second)

// maxLapTime: longer LastLapTime values are ignored (gaps between Q1/Q2/Q3).
const maxLapTime = dur(150 * time.Second)

// tLap is one lap of the TimingData stage (FastF1's stage-1 laps table).
type tLap struct {
	time        dur
	driver      string
	lapTime     dur
	lapTimeNone bool // source sent an explicitly empty LastLapTime
	number      int
	pitOut      dur
	pitIn       dur
	sec         [3]dur // sector times
	secT        [3]dur // sector session times
	speed       [4]float64
	pb          bool
}

func emptyTLap() tLap {
	return tLap{time: nat, lapTime: nat, pitOut: nat, pitIn: nat,
		sec: [3]dur{nat, nat, nat}, secT: [3]dur{nat, nat, nat},
		speed: [4]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}}
}

// streamRow is a sample of FastF1's timing stream table (forward filled).
type streamRow struct {
	t   dur
	gap string // GapToLeader, "" = NaN
}

// timingResult is the output of the TimingData stage.
type timingResult struct {
	laps     []tLap // grouped per driver, drivers in order of first appearance
	drivers  []string
	splits   [3]dur
	warnings []string
}

// TimingStage runs only FastF1's TimingData stage (`_extended_timing_data`,
// including the race lap alignment) on a TimingData.jsonStream body and
// returns its laps as Lap values: Time, DriverNumber, LapTime, LapNumber
// (NumberOfLaps), PitOutTime, PitInTime, sector and speed columns and
// IsPersonalBest are set; everything else is zero. splitTimes are the
// approximate session times at which Q1/Q2/Q3 started (24 h when absent).
// It fails only when the body cannot be decoded.
func TimingStage(timingData []byte) (laps []Lap, splitTimes [3]time.Duration, warnings []string, err error) {
	tr, err := timingStage(timingData)
	if err != nil {
		return nil, splitTimes, nil, err
	}
	for _, l := range tr.laps {
		laps = append(laps, l.public())
	}
	for i, s := range tr.splits {
		splitTimes[i] = time.Duration(s)
	}
	return laps, splitTimes, tr.warnings, nil
}

func (l *tLap) public() Lap {
	pb := l.pb
	out := Lap{
		Time: l.time.ptr(), DriverNumber: l.driver, LapTime: l.lapTime.ptr(), LapNumber: l.number,
		PitOutTime: l.pitOut.ptr(), PitInTime: l.pitIn.ptr(),
		Sector1Time: l.sec[0].ptr(), Sector2Time: l.sec[1].ptr(), Sector3Time: l.sec[2].ptr(),
		Sector1SessionTime: l.secT[0].ptr(), Sector2SessionTime: l.secT[1].ptr(), Sector3SessionTime: l.secT[2].ptr(),
		IsPersonalBest: &pb,
	}
	sp := [4]**float64{&out.SpeedI1, &out.SpeedI2, &out.SpeedFL, &out.SpeedST}
	for i, v := range l.speed {
		if !math.IsNaN(v) {
			x := v
			*sp[i] = &x
		}
	}
	return out
}

func timingStage(body []byte) (*timingResult, error) {
	// Drivers in order of first appearance.
	var order []string
	var feeds []driverFeed
	index := map[string]int{}
	var rd timingLines
	add := func(drv []byte, m *drvMsg) {
		i, seen := index[string(drv)]
		if !seen {
			i = len(order)
			index[string(drv)] = i
			order = append(order, string(drv))
			feeds = append(feeds, driverFeed{})
		}
		feeds[i].add(m)
	}
	err := livetiming.Walk("TimingData.jsonStream", body, func(l livetiming.Line) error {
		return rd.line(dur(l.Offset), l.Data, add)
	})
	if err != nil {
		return nil, err // names the feed and the line
	}
	res := &timingResult{splits: [3]dur{dur(24 * time.Hour), dur(24 * time.Hour), dur(24 * time.Hour)}}
	streams := map[string][]streamRow{}
	for d, drv := range order {
		laps, splits, warns := driverLaps(drv, feeds[d].msgs)
		res.warnings = append(res.warnings, warns...)
		if laps == nil {
			continue
		}
		for i := range splits {
			if i < 3 && splits[i] < res.splits[i] {
				res.splits[i] = splits[i]
			}
		}
		res.drivers = append(res.drivers, drv)
		res.laps = append(res.laps, laps...)
		streams[drv] = feeds[d].stream
	}
	if w := alignLaps(res, streams); w != "" {
		res.warnings = append(res.warnings, w)
	}
	return res, nil
}

// driverFeed is what the TimingData stage keeps of one driver's updates.
type driverFeed struct {
	// msgs are the updates that carry what driverLaps reads, in feed order.
	msgs []drvMsg
	// stream is the GapToLeader part of FastF1's stream table: a row
	// whenever Position, GapToLeader or the interval changes, with the
	// last GapToLeader sent (gap).
	stream []streamRow
	gap    string
}

// add takes the driver's next update.
func (f *driverFeed) add(m *drvMsg) {
	if m.carries() { // one that carries nothing read changes no lap
		f.msgs = append(f.msgs, *m)
	}
	if m.gap != "" {
		f.gap = m.gap
	}
	if m.position || m.gap != "" || m.interval {
		f.stream = append(f.stream, streamRow{t: m.t, gap: f.gap})
	}
}

// driverLaps is FastF1's per-driver lap reconstruction from TimingData.
// It returns nil laps when the driver never completed a lap.
func driverLaps(drv string, msgs []drvMsg) ([]tLap, []dur, []string) {
	var warns []string
	var integrity []int

	// Pass 1: lap boundaries.
	times := []dur{nat}
	{
		lapcnt, api := 0, 0
		inPast, outOfPit := false, false
		for _, msg := range msgs {
			nl, hasNL := msg.nl, msg.hasNL
			if inPast && hasNL && nl == float64(api) {
				inPast = false
			}
			if hasNL && nl < float64(api) {
				warns = append(warns, fmt.Sprintf("Driver %2s: Ignoring late data for a previously processed lap.The data may contain errors (previous: %v; current %d)", drv, nl, lapcnt))
				inPast = true
				continue
			}
			if inPast {
				continue
			}
			if msg.inPitBool && !msg.inPitVal {
				outOfPit = true
			}
			if hasNL && nl > float64(api) {
				api++
				if outOfPit {
					times[lapcnt] = msg.t
					lapcnt++
					times = append(times, nat)
				}
			}
		}
	}

	rows := make([]tLap, len(times))
	for i := range rows {
		rows[i] = emptyTLap()
	}
	type pbEntry struct{ t, v dur }
	var pbs []pbEntry
	splits := []dur{0}
	pitstops := -1
	lapcnt, api := 0, 0
	inPast := false
	for _, msg := range msgs {
		nl, hasNL := msg.nl, msg.hasNL
		if inPast && hasNL && nl == float64(api) {
			inPast = false
		}
		if inPast || (hasNL && nl < float64(api)) {
			inPast = true
			continue
		}
		t := msg.t
		off := 0
		if lapcnt > 0 && lt(sub(t, times[lapcnt-1]), fiveSec) {
			off = 1
		}
		for i, d := range msg.sec {
			if msg.secSet[i] {
				rows[lapcnt-off].sec[i] = d
				rows[lapcnt-off].secT[i] = t
			}
		}
		if msg.lltSet {
			d := msg.llt
			if !d.ok() {
				rows[lapcnt-off].lapTime = nat
				rows[lapcnt-off].lapTimeNone = true
			} else if d < maxLapTime {
				rows[lapcnt-off].lapTime = d
				rows[lapcnt-off].lapTimeNone = false
			}
		}
		for i, f := range msg.speed {
			if !msg.speedSet[i] {
				continue
			}
			if speedKeys[i] == "ST" {
				rows[lapcnt].speed[i] = f
			} else {
				rows[lapcnt-off].speed[i] = f
			}
		}
		if msg.inPit {
			if b, isBool := msg.inPitVal, msg.inPitBool; isBool && b {
				if pitstops >= 0 {
					rows[lapcnt].pitIn = t
				}
			} else if isBool && !b {
				if (hasNL && nl > float64(api)) || lt(sub(times[lapcnt], t), fiveSec) {
					rows[lapcnt+1].pitOut = t
				} else {
					rows[lapcnt].pitOut = t
				}
				pitstops++
			}
		}
		if msg.best.ok() {
			pbs = append(pbs, pbEntry{t, msg.best})
		}
		if msg.bestLaps+1 > len(splits) {
			splits = append(splits, t)
		}
		if hasNL && nl > float64(api) {
			api++
			if pitstops >= 0 {
				rows[lapcnt].time = t
				rows[lapcnt].number = lapcnt + 1
				rows[lapcnt].driver = drv
				lapcnt++
			}
		}
	}
	if lapcnt == 0 {
		return nil, splits, warns
	}
	dataIn := func(l *tLap) bool {
		for _, s := range l.sec {
			if s.ok() {
				return true
			}
		}
		for _, v := range l.speed {
			if !math.IsNaN(v) {
				return true
			}
		}
		return l.lapTime.ok()
	}
	if dataIn(&rows[lapcnt]) {
		rows[lapcnt].number = lapcnt + 1
		rows[lapcnt].driver = drv
	} else {
		rows = rows[:len(rows)-1]
	}
	if len(rows) > 0 && !dataIn(&rows[0]) {
		rows = rows[1:]
		for i := range rows {
			rows[i].number--
		}
	}
	if len(rows) == 0 {
		return nil, splits, warns
	}

	for i := range rows {
		r := &rows[i]
		var sum dur
		var na []int
		for k := 0; k < 3; k++ {
			if !r.sec[k].ok() {
				na = append(na, k)
				continue
			}
			sum += r.sec[k]
		}
		if !r.lapTimeNone && r.lapTime.ok() && sum > r.lapTime {
			r.lapTime = nat
			integrity = append(integrity, i+1)
		}
		if r.lapTimeNone {
			r.lapTimeNone = false
			if len(na) == 0 {
				r.lapTime = sum
			} else {
				r.lapTime = nat
			}
		}
		if i == 0 {
			continue
		}
		prev := &rows[i-1]
		if len(na) == 0 && !r.lapTime.ok() && eq(prev.lapTime, sum) {
			r.lapTime = sum
		} else if len(na) == 1 && r.lapTime.ok() {
			k := na[0]
			var others dur
			for j := 0; j < 3; j++ {
				if j != k {
					others += r.sec[j]
				}
			}
			if s := r.lapTime - others; eq(s, prev.sec[k]) {
				r.sec[k] = s
			}
		}
	}

	// Lap end sync: earliest trigger of the sector session times wins.
	for i := range rows {
		r := &rows[i]
		var sum dur
		minT := r.time
		steps := [3]struct{ st, sess dur }{{0, r.secT[2]}, {r.sec[2], r.secT[1]}, {r.sec[1], r.secT[0]}}
		for _, s := range steps {
			if !s.sess.ok() {
				continue
			}
			if !s.st.ok() {
				break
			}
			sum += s.st
			if nt := s.sess + sum; !minT.ok() || nt < minT {
				minT = nt
			}
		}
		if i > 0 && lt(minT, rows[i-1].time) {
			integrity = append(integrity, i+1)
			continue
		}
		r.time = minT
	}
	if last := &rows[len(rows)-1]; !last.time.ok() {
		if last.pitIn.ok() {
			last.time = last.pitIn
		} else {
			rows = rows[:len(rows)-1]
		}
	}
	if len(rows) == 0 {
		return nil, splits, warns
	}
	for i := len(rows) - 1; i > 0; i-- {
		if nt := sub(rows[i].time, rows[i].lapTime); lt(nt, rows[i-1].time) {
			if i > 1 && lt(nt, rows[i-2].time) {
				integrity = append(integrity, i+1)
			} else {
				rows[i-1].time = nt
			}
		}
	}
	for i := 0; i < len(rows)-1; i++ {
		cur, nx := &rows[i], &rows[i+1]
		if !cur.time.ok() || !nx.lapTime.ok() {
			continue
		}
		if nt := cur.time + nx.lapTime; lt(nt, nx.time) {
			nx.time = nt
		}
		acc := cur.time
		for k := 0; k < 3; k++ {
			if !nx.sec[k].ok() {
				break
			}
			acc += nx.sec[k]
			if lt(acc, nx.secT[k]) {
				nx.secT[k] = acc
			}
		}
	}

	// Personal bests: walk the BestLapTime history backwards per quali part.
	cur := len(splits) - 1
	var confirmed []dur
	for i := len(pbs) - 1; i >= 0; i-- {
		p := pbs[i]
		if cur >= 0 && p.t < splits[cur] {
			cur--
			confirmed = confirmed[:0]
		}
		if len(confirmed) > 0 {
			skip := false
			mn := confirmed[0]
			for _, c := range confirmed {
				if c == p.v {
					skip = true
				}
				mn = min(mn, c)
			}
			if skip || p.v < mn {
				continue
			}
		}
		confirmed = append(confirmed, p.v)
		for j := range rows {
			if eq(rows[j].lapTime, p.v) {
				rows[j].pb = true
				break
			}
		}
	}
	if lt(rows[0].pitIn, rows[0].pitOut) {
		rows[0].pitIn = nat
	}
	if len(integrity) > 0 {
		parts := make([]string, len(integrity))
		for i, n := range integrity {
			parts[i] = strconv.Itoa(n)
		}
		warns = append(warns, fmt.Sprintf("Driver %2s: Encountered %d timing integrity error(s) near lap(s): [%s].", drv, len(integrity), strings.Join(parts, ", ")))
	}
	return rows, splits, warns
}

// alignLaps shifts each driver's lap end times so that the gaps between
// drivers match the GapToLeader values of the stream (FastF1 `_align_laps`,
// effective in races only: other sessions carry no GapToLeader). It returns
// a warning, or "" when nothing is worth reporting.
func alignLaps(res *timingResult, streams map[string][]streamRow) string {
	anyGap := false
	for _, rows := range streams {
		for _, r := range rows {
			if r.gap != "" {
				anyGap = true
			}
		}
	}
	if !anyGap {
		return ""
	}
	byDrv := map[string][]int{} // driver -> indices into res.laps
	nLaps := 0
	for i, l := range res.laps {
		byDrv[l.driver] = append(byDrv[l.driver], i)
		nLaps = max(nLaps, l.number)
	}
	lapAt := func(drv string, idx int) (*tLap, bool) {
		ix := byDrv[drv]
		if idx >= len(ix) {
			return nil, false
		}
		return &res.laps[ix[idx]], true
	}
	gapFor := func(drv string, idx int) (string, bool) {
		l, ok := lapAt(drv, idx)
		if !ok {
			return "", false
		}
		rows := streams[drv]
		best, bestD := -1, dur(0)
		for i, r := range rows {
			d := sub(r.t, l.time)
			if !d.ok() {
				continue
			}
			if d < 0 {
				d = -d
			}
			if best < 0 || d < bestD {
				best, bestD = i, d
			}
		}
		if best < 0 {
			return "", false
		}
		return rows[best].gap, true
	}
	expected := map[string]dur{}
	delta := map[string]dur{}
	var deltaOrder []string
	for off := 0; off < nLaps; off++ {
		leader := ""
		var active []string
		skip := map[string]bool{}
		seen := map[string]bool{}
		for _, l := range res.laps {
			if l.number != off+1 {
				continue
			}
			if !seen[l.driver] {
				seen[l.driver] = true
				active = append(active, l.driver)
			}
			if l.pitIn.ok() || l.pitOut.ok() {
				skip[l.driver] = true
			}
		}
		for _, drv := range active {
			if skip[drv] {
				continue
			}
			g, ok := gapFor(drv, off)
			if !ok || g == "" {
				// FastF1 raises on a missing gap and gives up aligning.
				return "Failed to align laps between drivers!"
			}
			if strings.Contains(g, "LAP") {
				leader = drv
			} else if _, has := delta[drv]; !has {
				if eg := parseClock(g); eg.ok() {
					expected[drv] = eg
				}
			}
		}
		if leader == "" {
			continue
		}
		ll, ok := lapAt(leader, off)
		if !ok {
			return "Failed to align laps between drivers!"
		}
		if _, has := delta[leader]; !has {
			delta[leader] = 0
			deltaOrder = append(deltaOrder, leader)
		}
		ref := delta[leader]
		for drv, eg := range expected {
			if _, has := delta[drv]; has {
				continue
			}
			ol, ok := lapAt(drv, off)
			if !ok {
				return "Failed to align laps between drivers!"
			}
			delta[drv] = add(sub(eg, sub(ol.time, ll.time)), ref)
			deltaOrder = append(deltaOrder, drv)
		}
		if len(active) <= len(delta) {
			break
		}
	}
	if len(delta) == 0 {
		return "Failed to align laps between drivers!"
	}
	maxD := nat
	for _, d := range delta {
		if d.ok() && (!maxD.ok() || d > maxD) {
			maxD = d
		}
	}
	if !maxD.ok() || maxD < 0 {
		maxD = 0
	}
	for drv, d := range delta {
		d = sub(d, maxD)
		for _, i := range byDrv[drv] {
			res.laps[i].time = add(res.laps[i].time, d)
		}
	}
	var unaligned []string
	for _, drv := range res.drivers {
		if _, has := delta[drv]; !has {
			unaligned = append(unaligned, drv)
		}
	}
	if len(unaligned) > 0 {
		return fmt.Sprintf("Failed to align laps for drivers: %v", unaligned)
	}
	return ""
}
