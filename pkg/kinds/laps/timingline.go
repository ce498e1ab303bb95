package laps

import (
	"bytes"
	"strconv"

	"github.com/paddock-f1/paddock/pkg/jsonwalk"
)

// drvMsg is one TimingData update for one driver: the members of the
// driver's patch that the lap derivation reads, decoded once from the line
// (no generic map per line). A member the patch does not carry, or carries
// with another type than the one read, is left at its zero value; a member
// sent twice counts as its last occurrence, as in a decoded JSON object.
type drvMsg struct {
	t dur

	// nl is NumberOfLaps when hasNL (a JSON number).
	nl    float64
	hasNL bool
	// inPit: InPit is present; inPitBool: it is a boolean, inPitVal its value.
	inPit, inPitBool, inPitVal bool
	// sec[i] is Sectors."i".Value when Sectors is an object and that value
	// a non-empty string ("" otherwise).
	sec [3]string
	// lltSet: LastLapTime is an object whose Value is present and not
	// null; llt is that value when a string ("" otherwise).
	lltSet bool
	llt    string
	// speed is Speeds.I1, I2, FL, ST .Value when a non-empty string.
	speed [4]string
	// best is BestLapTime.Value when a non-empty string.
	best string
	// bestLapsKey is the first member name of BestLapTimes when it is an
	// object with at least one member (hasBestLaps).
	bestLapsKey string
	hasBestLaps bool
	// position: Position is present, not null and not "".
	position bool
	// gap is GapToLeader when a non-empty string.
	gap string
	// interval: IntervalToPositionAhead.Value is a non-empty string.
	interval bool
}

// speedKeys are the Speeds members in drvMsg.speed (and tLap.speed) order.
var speedKeys = [4]string{"I1", "I2", "FL", "ST"}

// timingLines reads TimingData patches into per-driver messages. It keeps
// one jsonwalk.Doc for every line of a feed.
type timingLines struct {
	doc jsonwalk.Doc
}

// line calls add for each driver of the line's "Lines" object, in document
// order, with the driver's update. A line that is not an object or whose
// Lines is not an object adds nothing; neither does a driver whose update
// is not an object (null included). data must be valid JSON (the feed's
// lines are validated when decoded).
func (r *timingLines) line(t dur, data []byte, add func(drv string, m *drvMsg)) {
	p := &r.doc
	p.Reset(data)
	if p.Peek() != '{' {
		return
	}
	p.Open('{', "")
	for first := true; p.More('}', &first); {
		k := p.Key()
		if !bytes.EqualFold(k, []byte("Lines")) || p.Peek() != '{' {
			p.Skip()
			continue
		}
		p.Open('{', "")
		for first := true; p.More('}', &first); {
			drv := p.Key()
			if p.Peek() != '{' {
				p.Skip()
				continue
			}
			m := drvMsg{t: t}
			if r.driver(&m) {
				add(string(drv), &m)
			}
		}
	}
}

// driver reads one driver's update (an object) into m; false when a number
// in it is out of the float64 range (as decoding it into a map fails).
func (r *timingLines) driver(m *drvMsg) bool {
	p := &r.doc
	ok := true
	p.Open('{', "")
	for first := true; p.More('}', &first); {
		k := p.Key()
		switch string(k) {
		case "NumberOfLaps":
			m.hasNL = false
			if c := p.Peek(); c == '-' || (c >= '0' && c <= '9') {
				f, err := strconv.ParseFloat(string(p.Span()), 64)
				if err != nil {
					ok = false
					continue
				}
				m.nl, m.hasNL = f, true
				continue
			}
		case "InPit":
			m.inPit = true
			m.inPitBool, m.inPitVal = false, false
			switch p.Peek() {
			case 't':
				m.inPitBool, m.inPitVal = true, true
			case 'f':
				m.inPitBool = true
			}
		case "Sectors":
			m.sec = [3]string{}
			if p.Peek() == '{' {
				p.Open('{', "")
				for first := true; p.More('}', &first); {
					i := -1
					switch string(p.Key()) {
					case "0":
						i = 0
					case "1":
						i = 1
					case "2":
						i = 2
					}
					if i < 0 {
						p.Skip()
						continue
					}
					m.sec[i] = r.value()
				}
				continue
			}
		case "LastLapTime":
			m.lltSet, m.llt = false, ""
			if p.Peek() == '{' {
				p.Open('{', "")
				for first := true; p.More('}', &first); {
					if string(p.Key()) != "Value" {
						p.Skip()
						continue
					}
					m.lltSet, m.llt = p.Peek() != 'n', ""
					if p.Peek() == '"' {
						m.llt = string(p.Str(""))
						continue
					}
					p.Skip()
				}
				continue
			}
		case "Speeds":
			m.speed = [4]string{}
			if p.Peek() == '{' {
				p.Open('{', "")
				for first := true; p.More('}', &first); {
					k := p.Key()
					i := 0
					for i < len(speedKeys) && string(k) != speedKeys[i] {
						i++
					}
					if i == len(speedKeys) {
						p.Skip()
						continue
					}
					m.speed[i] = r.value()
				}
				continue
			}
		case "BestLapTime":
			m.best = ""
			if p.Peek() == '{' {
				m.best = r.value()
				continue
			}
		case "BestLapTimes":
			m.hasBestLaps, m.bestLapsKey = false, ""
			if p.Peek() == '{' {
				p.Open('{', "")
				for first := true; p.More('}', &first); {
					k := p.Key()
					if !m.hasBestLaps {
						m.hasBestLaps, m.bestLapsKey = true, string(k)
					}
					p.Skip()
				}
				continue
			}
		case "Position":
			m.position = false
			switch p.Peek() {
			case 'n':
			case '"':
				m.position = len(p.Str("")) > 0
				continue
			default:
				m.position = true
			}
		case "GapToLeader":
			m.gap = ""
			if p.Peek() == '"' {
				m.gap = string(p.Str(""))
				continue
			}
		case "IntervalToPositionAhead":
			m.interval = false
			if p.Peek() == '{' {
				m.interval = r.value() != ""
				continue
			}
		}
		p.Skip()
	}
	return ok
}

// value reads an object (at the current position; anything else is
// skipped) and returns its member Value when that is a non-empty string,
// "" otherwise (the last Value counts).
func (r *timingLines) value() string {
	p := &r.doc
	if p.Peek() != '{' {
		p.Skip()
		return ""
	}
	v := ""
	p.Open('{', "")
	for first := true; p.More('}', &first); {
		if string(p.Key()) != "Value" {
			p.Skip()
			continue
		}
		v = ""
		if p.Peek() == '"' {
			v = string(p.Str(""))
			continue
		}
		p.Skip()
	}
	return v
}
