// Package trackstatus turns the live-timing TrackStatus feed into one
// [Change] per feed line, with the row semantics of FastF1's track_status
// table (fastf1 _api.track_status_data, Session.track_status), and writes
// that table in FastF1's CSV form.
//
// The feed sends a line whenever the track status changes:
// {"Status":"2","Message":"Yellow"}. Known statuses: "1" AllClear, "2"
// Yellow, "4" SCDeployed, "5" Red, "6" VSCDeployed, "7" VSCEnding ("3" has
// never been seen).
//
// Row semantics (FastF1-compatible): every line whose payload is a JSON
// object gives one row, even one without Status or Message; lines whose
// payload is valid JSON but not an object are ignored. Values are not
// carried over from earlier lines.
package trackstatus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// Feed is the file name of the feed this package reads, relative to a
// session's archive path.
const Feed = "TrackStatus.jsonStream"

// Change is one TrackStatus line.
type Change struct {
	// Time is the stream offset of the line (time since the start of the
	// data recording, not the session start), millisecond precision.
	Time time.Duration
	// Status is the numeric status code as sent ("1", "2", ...); "" when
	// the line has no Status or it is null.
	Status string
	// Message is the status in words ("AllClear", "Yellow", ...); "" when
	// the line has no Message or it is null.
	Message string
}

// Parse decodes a TrackStatus.jsonStream body whole (see [livetiming.Whole])
// into changes in line order.
//
// Parse fails when the body is empty or any line does not decode (the error
// wraps a *livetiming.FormatError naming the first bad line and its number;
// FastF1 skips such lines with a warning), and when Status or Message is
// neither a string nor null (FastF1 would keep the raw JSON value). A body
// with no object line gives no rows and no error.
func Parse(body []byte) ([]Change, error) {
	s, err := livetiming.Whole(Feed, body)
	if err != nil {
		return nil, fmt.Errorf("trackstatus: %w", err)
	}
	out := make([]Change, 0, len(s.Lines))
	for i, l := range s.Lines {
		var row map[string]json.RawMessage
		if json.Unmarshal(l.Data, &row) != nil || row == nil {
			continue // not an object: FastF1 drops the line too
		}
		c := Change{Time: l.Offset}
		if c.Status, err = text(row, "Status"); err == nil {
			c.Message, err = text(row, "Message")
		}
		if err != nil {
			return nil, fmt.Errorf("trackstatus: %s record %d (offset %s): %w", Feed, i+1, livetiming.FormatOffset(l.Offset), err)
		}
		out = append(out, c)
	}
	return out, nil
}

// text returns the string value of row[key], "" when it is missing or
// null.
func text(row map[string]json.RawMessage, key string) (string, error) {
	raw := bytes.TrimSpace(row[key])
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%s is %s, want a string", key, raw)
	}
	return s, nil
}
