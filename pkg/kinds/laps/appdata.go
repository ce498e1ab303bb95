package laps

import (
	"bytes"
	"math"
	"strconv"
	"time"

	"github.com/paddock-f1/paddock/pkg/jsonwalk"
	"github.com/paddock-f1/paddock/pkg/livetiming"
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
	var out []TyreMsg
	var p jsonwalk.Doc
	err := livetiming.Walk("TimingAppData.jsonStream", timingAppData, func(l livetiming.Line) error {
		p.Reset(l.Data)
		if p.Peek() != '{' {
			p.Skip()
			p.End()
			return p.Err
		}
		p.Open('{', "")
		for first := true; p.More('}', &first); {
			if !bytes.EqualFold(p.Key(), []byte("Lines")) || p.Peek() != '{' {
				p.Skip()
				continue
			}
			p.Open('{', "")
			for first := true; p.More('}', &first); {
				drv := string(p.Key())
				out = driverStints(&p, out, l.Offset, drv)
			}
		}
		p.End()
		return p.Err
	})
	if err != nil {
		return nil, err // names the feed and the line
	}
	return out, nil
}

// driverStints appends the stint messages of one driver's TimingAppData
// update (the value at p) to out. A driver's update that is not an object,
// or whose Stints hold a value that is neither an object nor null, adds
// nothing.
func driverStints(p *jsonwalk.Doc, out []TyreMsg, t time.Duration, drv string) []TyreMsg {
	if p.Peek() != '{' {
		p.Skip()
		return out
	}
	start := len(out)
	p.Open('{', "")
	for first := true; p.More('}', &first); {
		if !bytes.EqualFold(p.Key(), []byte("Stints")) {
			p.Skip()
			continue
		}
		out = out[:start] // the last Stints counts
		ok := true
		switch p.Peek() {
		case '[':
			p.Open('[', "")
			n := 0
			for first := true; p.More(']', &first); n++ {
				var msg TyreMsg
				if msg, ok = stint(p, t, drv, n, ok); ok {
					out = append(out, msg)
				}
			}
		case '{':
			p.Open('{', "")
			for first := true; p.More('}', &first); {
				n, err := pyInt(string(p.Key()))
				var msg TyreMsg
				if msg, ok = stint(p, t, drv, int(n), ok); ok && err == nil {
					out = append(out, msg)
				}
			}
		default:
			p.Skip()
		}
		if !ok {
			out = out[:start]
		}
	}
	return out
}

// stint reads one stint (an object or null at p) into a message; ok turns
// false, and stays false, when the value is neither.
func stint(p *jsonwalk.Doc, t time.Duration, drv string, n int, ok bool) (TyreMsg, bool) {
	msg := TyreMsg{Time: t, Driver: drv, Stint: n, StartLaps: math.NaN(), TotalLaps: math.NaN()}
	switch p.Peek() {
	case 'n':
		p.Skip()
		return msg, ok
	case '{':
	default:
		p.Skip()
		return msg, false
	}
	p.Open('{', "")
	for first := true; p.More('}', &first); {
		k := p.Key()
		c := p.Peek()
		isNum := c == '-' || (c >= '0' && c <= '9')
		switch string(k) {
		case "Compound":
			msg.Compound = nil
			if c == '"' {
				s := string(p.Str(""))
				msg.Compound = &s
				continue
			}
		case "New":
			b := false
			if c == '"' {
				b = string(p.Str("")) == "true"
				msg.New = &b
				continue
			}
			msg.New = &b
		case "StartLaps", "TotalLaps":
			f := math.NaN()
			if isNum {
				v, err := strconv.ParseFloat(string(p.Span()), 64)
				if err != nil {
					ok = false
				}
				f = v
			}
			if string(k) == "StartLaps" {
				msg.StartLaps = f
			} else {
				msg.TotalLaps = f
			}
			if isNum {
				continue
			}
		}
		p.Skip()
	}
	return msg, ok
}
