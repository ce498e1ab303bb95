package laps

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// mapUpdates reads a TimingData line as the derivation did before it was
// walked in place: the line and each driver's update decoded into maps,
// the drivers' order read again from the line. It is the reference the
// typed reader is held to.
func mapUpdates(t dur, raw []byte) (drivers []string, msgs []drvMsg) {
	var top struct {
		Lines map[string]json.RawMessage `json:"Lines"`
	}
	if err := json.Unmarshal(raw, &top); err != nil || len(top.Lines) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(top.Lines))
	for k := range top.Lines {
		keys = append(keys, k)
	}
	if len(keys) > 1 {
		var rawTop struct {
			Lines json.RawMessage `json:"Lines"`
		}
		if json.Unmarshal(raw, &rawTop) != nil {
			return nil, nil
		}
		keys = objectKeys(rawTop.Lines)
	}
	truthy := func(v any) string { s, _ := v.(string); return s }
	value := func(v any, k string) any {
		if m, ok := v.(map[string]any); ok {
			if m, ok := m[k].(map[string]any); ok {
				return m["Value"]
			}
		}
		return nil
	}
	for _, drv := range keys {
		var m map[string]any
		if err := json.Unmarshal(top.Lines[drv], &m); err != nil || m == nil {
			continue
		}
		msg := drvMsg{t: t, best: nat, bestLaps: -1}
		msg.nl, msg.hasNL = num(m["NumberOfLaps"])
		if ip, ok := m["InPit"]; ok {
			msg.inPit = true
			b, isBool := ip.(bool)
			msg.inPitBool, msg.inPitVal = isBool, b
		}
		if secs, ok := m["Sectors"].(map[string]any); ok {
			for i := range 3 {
				if s := truthy(value(secs, strconv.Itoa(i))); s != "" {
					msg.sec[i], msg.secSet[i] = parseClock(s), true
				}
			}
		}
		if llt, ok := m["LastLapTime"].(map[string]any); ok && len(llt) > 0 {
			if v, ok := llt["Value"]; ok && v != nil {
				s, _ := v.(string)
				msg.llt, msg.lltSet = parseClock(s), true
			}
		}
		if sp, ok := m["Speeds"].(map[string]any); ok {
			for i, k := range speedKeys {
				if s := truthy(value(sp, k)); s != "" {
					if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
						msg.speed[i], msg.speedSet[i] = f, true
					}
				}
			}
		}
		if s := truthy(value(m, "BestLapTime")); s != "" {
			msg.best = parseClock(s)
		}
		if blt, ok := m["BestLapTimes"].(map[string]any); ok && len(blt) > 0 {
			var rawDrv map[string]json.RawMessage
			if json.Unmarshal(top.Lines[drv], &rawDrv) == nil {
				if ks := objectKeys(rawDrv["BestLapTimes"]); len(ks) > 0 {
					if n, err := strconv.Atoi(ks[0]); err == nil && n >= 0 {
						msg.bestLaps = n
					}
				}
			}
		}
		if v := m["Position"]; v != nil && v != "" {
			msg.position = true
		}
		msg.gap = truthy(m["GapToLeader"])
		msg.interval = truthy(value(m, "IntervalToPositionAhead")) != ""
		drivers = append(drivers, drv)
		msgs = append(msgs, msg)
	}
	return drivers, msgs
}

// typedUpdates reads a line with the typed reader.
func typedUpdates(t dur, raw []byte) (drivers []string, msgs []drvMsg, err error) {
	var r timingLines
	err = r.line(t, raw, func(drv []byte, m *drvMsg) {
		drivers = append(drivers, string(drv))
		msgs = append(msgs, *m)
	})
	return drivers, msgs, err
}

// meaning keeps of an update what the derivation reads: a value only
// where its flag says it was sent (NaN speeds made comparable).
func meaning(m drvMsg) drvMsg {
	for i := range m.sec {
		if !m.secSet[i] {
			m.sec[i] = 0
		}
	}
	for i := range m.speed {
		if !m.speedSet[i] || math.IsNaN(m.speed[i]) {
			m.speed[i] = 0
		}
	}
	if !m.lltSet {
		m.llt = 0
	}
	if !m.hasNL {
		m.nl = 0
	}
	return m
}

// sameUpdates compares the two readings of one line.
func sameUpdates(t *testing.T, what string, raw []byte) {
	t.Helper()
	wd, wm := mapUpdates(7, raw)
	gd, gm, err := typedUpdates(7, raw)
	if err != nil {
		t.Fatalf("%s: %.300s: %v", what, raw, err)
	}
	if !reflect.DeepEqual(gd, wd) {
		t.Fatalf("%s: %.300s\ntyped reader's drivers %v, the maps' %v", what, raw, gd, wd)
	}
	for i := range wm {
		if g, w := meaning(gm[i]), meaning(wm[i]); g != w {
			t.Fatalf("%s: %.300s\ndriver %s: typed %+v\n      maps %+v", what, raw, wd[i], g, w)
		}
	}
}

// TestTimingLinesReadWhatMapsRead: the typed TimingData reader gives, for
// every line of every recorded TimingData and for lines of unusual shapes
// (members of other types, null, members sent twice, escapes), the
// drivers and updates that decoding into maps gave.
func TestTimingLinesReadWhatMapsRead(t *testing.T) {
	paths, err := filepath.Glob("../../../testdata/f1/recorded/*/static/*/*/*/TimingData.jsonStream")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no recorded TimingData: %v", err)
	}
	lines := 0
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s, err := livetiming.Whole("TimingData.jsonStream", body)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range s.Lines {
			sameUpdates(t, p, l.Data)
			lines++
		}
	}
	for _, raw := range []string{
		`[]`, `null`, `"x"`, `{}`, `{"Lines":null}`, `{"Lines":[]}`, `{"Lines":{}}`, `{"lines":{"1":{"NumberOfLaps":3}}}`,
		`{"Lines":{"1":null,"2":{},"3":5,"4":[],"5":{"NumberOfLaps":2}}}`,
		`{"Lines":{"1":{"NumberOfLaps":"3","InPit":null,"Position":0}}}`,
		`{"Lines":{"1":{"NumberOfLaps":1,"NumberOfLaps":"x","InPit":true,"InPit":"false"}}}`,
		`{"Lines":{"1":{"InPit":false,"Position":"","GapToLeader":5,"IntervalToPositionAhead":{"Value":""}}}}`,
		`{"Lines":{"1":{"Position":"3","GapToLeader":"+1.2","IntervalToPositionAhead":{"Value":"+0.4"}}}}`,
		`{"Lines":{"1":{"Sectors":[{"Value":"23.1"},{"Value":"30.2"}]}}}`,
		`{"Lines":{"1":{"Sectors":{"0":{"Value":"23.1"},"1":{"Value":""},"2":{"Value":null},"3":{"Value":"1.0"}}}}}`,
		`{"Lines":{"1":{"Sectors":{"0":{"Value":"23.1","Value":7},"1":{"Value":"x"},"1":{"Value":"\u0032\u0030.5"}}}}}`,
		`{"Lines":{"1":{"Sectors":{"0":{"Value":"1"}},"Sectors":{"1":{"Value":"2"}}}}}`,
		`{"Lines":{"1":{"LastLapTime":{}}}}`, `{"Lines":{"1":{"LastLapTime":{"Value":null}}}}`,
		`{"Lines":{"1":{"LastLapTime":{"Value":5}}}}`, `{"Lines":{"1":{"LastLapTime":{"Value":""}}}}`,
		`{"Lines":{"1":{"LastLapTime":{"Value":"1:31.2","Status":0}}}}`, `{"Lines":{"1":{"LastLapTime":"1:31.2"}}}`,
		`{"Lines":{"1":{"Speeds":{"I1":{"Value":" 301 "},"I2":{"Value":"nan"},"FL":{"Value":"x"},"ST":{"Value":300}}}}}`,
		`{"Lines":{"1":{"BestLapTime":{"Value":"1:30.0","Lap":3},"BestLapTimes":{"2":{"Value":"1:30.0"},"0":{}}}}}`,
		`{"Lines":{"1":{"BestLapTime":{"Value":"x"},"BestLapTimes":{"-1":{}}}}}`,
		`{"Lines":{"1":{"BestLapTimes":[{"Value":""}],"BestLapTimes":{}}}}`,
		`{"Lines":{"1":{"BestLapTimes":{"a":1,"1":2}}}}`,
		`{"Lines":{"44":{"NumberOfLaps":12},"1":{"NumberOfLaps":11}},"Other":[1,2]}`,
	} {
		sameUpdates(t, "crafted", []byte(raw))
	}
	t.Logf("%d recorded lines read alike", lines)
}
