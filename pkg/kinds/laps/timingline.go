package laps

import (
	"bytes"
	"strconv"

	"github.com/paddock-f1/paddock/pkg/jsonwalk"
)

// drvMsg is one TimingData update for one driver: the members of the
// driver's patch that the lap derivation reads, decoded once from the line
// into typed values (no generic map per line). A member the patch does not
// carry, or carries with another type than the one read, is left unset; a
// member sent twice counts as its last occurrence, as in a decoded JSON
// object. Times are parsed as FastF1's to_timedelta does (see parseClock).
type drvMsg struct {
	t dur

	// nl is NumberOfLaps when hasNL (a JSON number).
	nl float64
	// sec[i] is Sectors."i".Value, parsed, when secSet[i]: Sectors is an
	// object and that value a non-empty string (parsed, it may be nat).
	sec [3]dur
	// llt is LastLapTime.Value, parsed (nat unless a valid time string),
	// when lltSet: LastLapTime is an object whose Value is present and not
	// null.
	llt dur
	// speed[i] is Speeds.I1, I2, FL, ST .Value as a number when
	// speedSet[i]: a non-empty string that parses as a float.
	speed [4]float64
	// best is BestLapTime.Value, parsed: nat when absent or not a time.
	best dur
	// bestLaps is the first member name of BestLapTimes as an integer, -1
	// when BestLapTimes is not an object with members or that name is not
	// an integer.
	bestLaps int
	// gap is GapToLeader when a non-empty string.
	gap string

	hasNL bool
	// inPit: InPit is present; inPitBool: it is a boolean, inPitVal its value.
	inPit, inPitBool, inPitVal bool
	secSet                     [3]bool
	lltSet                     bool
	speedSet                   [4]bool
	// position: Position is present, not null and not "".
	position bool
	// interval: IntervalToPositionAhead.Value is a non-empty string.
	interval bool
}

// carries reports whether m carries any member driverLaps reads (most
// updates carry only segment colours, gaps, statistics or the like).
func (m *drvMsg) carries() bool {
	return m.hasNL || m.inPit || m.secSet != [3]bool{} || m.lltSet || m.speedSet != [4]bool{} ||
		m.best.ok() || m.bestLaps >= 0
}

// speedKeys are the Speeds members in drvMsg.speed (and tLap.speed) order.
var speedKeys = [4]string{"I1", "I2", "FL", "ST"}

// timingLines reads TimingData patches into per-driver messages. It keeps
// one jsonwalk.Doc for every line of a feed.
type timingLines struct {
	doc jsonwalk.Doc
	msg drvMsg // the update being read
}

// line calls add for each driver of the line's "Lines" object, in document
// order, with the driver's update. A line that is not an object or whose
// Lines is not an object adds nothing; neither does a driver whose update
// is not an object (null included). It walks the whole payload and returns
// its syntax error, if any (see [livetiming.Walk]).
// The driver's number passed to add aliases data, the update is valid
// only during the call.
func (r *timingLines) line(t dur, data []byte, add func(drv []byte, m *drvMsg)) error {
	p := &r.doc
	p.Reset(data)
	if p.Peek() != '{' {
		p.Skip()
		p.End()
		return p.Err
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
			r.msg = drvMsg{t: t, best: nat, bestLaps: -1}
			if r.driver(&r.msg) && p.Err == nil {
				add(drv, &r.msg)
			}
		}
	}
	p.End()
	return p.Err
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
			m.secSet = [3]bool{}
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
					v := r.value()
					m.secSet[i] = len(v) > 0
					m.sec[i] = parseClock(string(v))
				}
				continue
			}
		case "LastLapTime":
			m.lltSet, m.llt = false, nat
			if p.Peek() == '{' {
				p.Open('{', "")
				for first := true; p.More('}', &first); {
					if string(p.Key()) != "Value" {
						p.Skip()
						continue
					}
					m.lltSet, m.llt = p.Peek() != 'n', nat
					if p.Peek() == '"' {
						m.llt = parseClock(string(p.Str("")))
						continue
					}
					p.Skip()
				}
				continue
			}
		case "Speeds":
			m.speedSet = [4]bool{}
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
					v := bytes.TrimSpace(r.value())
					m.speedSet[i] = false
					if len(v) > 0 {
						f, err := strconv.ParseFloat(string(v), 64)
						m.speed[i], m.speedSet[i] = f, err == nil
					}
				}
				continue
			}
		case "BestLapTime":
			m.best = nat
			if p.Peek() == '{' {
				if v := r.value(); len(v) > 0 {
					m.best = parseClock(string(v))
				}
				continue
			}
		case "BestLapTimes":
			m.bestLaps = -1
			if p.Peek() == '{' {
				p.Open('{', "")
				named := false
				for first := true; p.More('}', &first); {
					k := p.Key()
					if !named {
						named = true
						if n, err := strconv.Atoi(string(k)); err == nil && n >= 0 {
							m.bestLaps = n
						}
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
				m.interval = len(r.value()) > 0
				continue
			}
		}
		p.Skip()
	}
	return ok
}

// value reads an object (at the current position; anything else is
// skipped) and returns its member Value when that is a string, nil
// otherwise (the last Value counts). The result aliases the line.
func (r *timingLines) value() []byte {
	p := &r.doc
	if p.Peek() != '{' {
		p.Skip()
		return nil
	}
	var v []byte
	p.Open('{', "")
	for first := true; p.More('}', &first); {
		if string(p.Key()) != "Value" {
			p.Skip()
			continue
		}
		v = nil
		if p.Peek() == '"' {
			v = p.Str("")
			continue
		}
		p.Skip()
	}
	return v
}
