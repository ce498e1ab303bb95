package laps

import (
	"encoding/json"
	"math"
	"time"
)

// TyreMsg is one tyre stint message of TimingAppData (a row of FastF1's
// timing_app_data table). Messages are partial: absent values are nil/NaN.
type TyreMsg struct {
	// Time is the session time of the feed line.
	Time time.Duration
	// Driver is the racing number.
	Driver string
	// Stint is the stint index as sent (from 0).
	Stint int
	// Compound is the tyre compound; nil when the message does not carry it.
	Compound *string
	// New is true/false for "true"/other strings; nil when absent.
	New *bool
	// StartLaps is the tyre age when fitted, TotalLaps its age now; NaN
	// when absent.
	StartLaps, TotalLaps float64
}

// TyreStage parses TimingAppData into stint messages in feed order (FastF1
// `timing_app_data`): "Stints" may be a list (start of session) or an
// object keyed by stint index. It fails only when the body cannot be
// decoded.
func TyreStage(timingAppData []byte) ([]TyreMsg, error) {
	lines, err := decodeFeed("TimingAppData", timingAppData)
	if err != nil {
		return nil, err
	}
	var out []TyreMsg
	for _, ln := range lines {
		var top struct {
			Lines map[string]struct {
				Stints json.RawMessage `json:"Stints"`
			} `json:"Lines"`
		}
		var rawTop struct {
			Lines json.RawMessage `json:"Lines"`
		}
		if json.Unmarshal(ln.raw, &rawTop) != nil || len(rawTop.Lines) == 0 {
			continue
		}
		if json.Unmarshal(ln.raw, &top) != nil {
			continue
		}
		for _, drv := range objectKeys(rawTop.Lines) {
			raw := top.Lines[drv].Stints
			if len(raw) == 0 {
				continue
			}
			type entry struct {
				n int
				m map[string]any
			}
			var entries []entry
			switch raw[0] {
			case '[':
				var l []map[string]any
				if json.Unmarshal(raw, &l) != nil {
					continue
				}
				for i, m := range l {
					entries = append(entries, entry{i, m})
				}
			case '{':
				var m map[string]map[string]any
				if json.Unmarshal(raw, &m) != nil {
					continue
				}
				for _, k := range objectKeys(raw) {
					n, err := pyInt(k)
					if err != nil {
						continue
					}
					entries = append(entries, entry{int(n), m[k]})
				}
			}
			for _, e := range entries {
				msg := TyreMsg{Time: time.Duration(ln.t), Driver: drv, Stint: e.n,
					StartLaps: math.NaN(), TotalLaps: math.NaN()}
				if v, ok := e.m["Compound"]; ok {
					if s, ok := v.(string); ok {
						msg.Compound = &s
					}
				}
				if v, ok := e.m["New"]; ok {
					b := v == "true"
					msg.New = &b
				}
				if f, ok := num(e.m["StartLaps"]); ok {
					msg.StartLaps = f
				}
				if f, ok := num(e.m["TotalLaps"]); ok {
					msg.TotalLaps = f
				}
				out = append(out, msg)
			}
		}
	}
	return out, nil
}
