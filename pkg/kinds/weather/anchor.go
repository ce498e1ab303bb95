package weather

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// Anchor estimates t0, the UTC instant of stream offset zero of a session's
// recording, from its RaceControlMessages.jsonStream body.
//
// Each message carries "Utc", the wall-clock UTC time of the event truncated
// to whole seconds and written without a zone ("2019-09-07T13:00:00"; a
// fraction and a trailing "Z" are accepted), and is published at its line's
// offset. "Messages" is a list in the first line and an object keyed by the
// message index later; both are read. Since a message's real time is at or
// after its Utc and it is published at or after its real time,
// t0 >= Utc - offset for every message, so t0 is the maximum of Utc - offset
// over all messages. Messages re-sent long after the event (e.g. the initial
// state replayed at the start of a recording) only give weaker bounds and do
// not disturb the maximum. A message stamped later than it was published
// would bias the result; none of the recordings has one. Checked on the
// recorded non-race sessions, t0 + the offset of the first "Started" status
// lands 0.4-1.4 s after the scheduled start, so expect about 1 s precision
// (the estimate can only be late, never early, while the assumptions hold).
//
// ok is false when no message has a usable Utc. err wraps the
// *livetiming.FormatError when the body is empty or a line does not decode
// (see livetiming.Whole). Lines that are not objects with messages, and
// messages without a usable Utc, are ignored.
func Anchor(rcmBody []byte) (t0 time.Time, ok bool, err error) {
	s, err := livetiming.Whole(feedRCM, rcmBody)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("weather: anchor: %w", err)
	}
	for _, l := range s.Lines {
		var line struct {
			Messages json.RawMessage `json:"Messages"`
		}
		if json.Unmarshal(l.Data, &line) != nil {
			continue
		}
		for _, utc := range messageUTCs(line.Messages) {
			if cand := utc.Add(-l.Offset); !ok || cand.After(t0) {
				t0, ok = cand, true
			}
		}
	}
	return t0, ok, nil
}

// messageUTCs returns the parsable "Utc" values of a Messages list or
// index-keyed object.
func messageUTCs(raw json.RawMessage) []time.Time {
	type msg struct {
		Utc *string `json:"Utc"`
	}
	var msgs []msg
	var list []msg
	var byIndex map[string]msg
	switch {
	case json.Unmarshal(raw, &list) == nil:
		msgs = list
	case json.Unmarshal(raw, &byIndex) == nil:
		for _, m := range byIndex {
			msgs = append(msgs, m)
		}
	default:
		return nil
	}
	var out []time.Time
	for _, m := range msgs {
		if m.Utc == nil {
			continue
		}
		if t, err := parseUTC(*m.Utc); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// parseUTC parses a zone-less UTC timestamp as sent by the feed, with
// optional fractional seconds and optional trailing "Z".
func parseUTC(s string) (time.Time, error) {
	return time.ParseInLocation("2006-01-02T15:04:05.999999999", strings.TrimSuffix(s, "Z"), time.UTC)
}
