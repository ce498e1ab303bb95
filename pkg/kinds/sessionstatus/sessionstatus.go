// Package sessionstatus turns the live-timing SessionStatus feed into one
// [Change] per status line, with the row semantics of FastF1's
// session_status table (fastf1 _api.session_status_data,
// Session.session_status), and writes that table in FastF1's CSV form.
//
// The feed sends a line whenever the session status changes:
// {"Status":"Started"}. Statuses seen: "Inactive", "Started", "Aborted",
// "Finished", "Finalised", "Ends". FastF1 takes the first "Started" as the
// session start (Session.session_start_time).
//
// Row semantics (FastF1-compatible): every line whose payload is a JSON
// object with a "Status" key gives one row; other keys (some lines also
// carry "Started") are ignored, and so are lines without "Status" and lines
// whose payload is valid JSON but not an object.
package sessionstatus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// Feed is the file name of the feed this package reads, relative to a
// session's archive path.
const Feed = "SessionStatus.jsonStream"

// Change is one SessionStatus line.
type Change struct {
	// Time is the stream offset of the line (time since the start of the
	// data recording, not the session start), millisecond precision.
	Time time.Duration
	// Status is the session status as sent ("Started", ...); "" when it is
	// null.
	Status string
}

// Parse decodes a SessionStatus.jsonStream body whole (see [livetiming.Whole])
// into changes in line order.
//
// Parse fails when the body is empty or any line does not decode (the error
// wraps a *livetiming.FormatError naming the first bad line and its number;
// FastF1 skips such lines with a warning), and when Status is neither a
// string nor null (FastF1 would keep the raw JSON value). A body without a
// Status line gives no rows and no error.
func Parse(body []byte) ([]Change, error) {
	s, err := livetiming.Whole(Feed, body)
	if err != nil {
		return nil, fmt.Errorf("sessionstatus: %w", err)
	}
	out := make([]Change, 0, len(s.Lines))
	for i, l := range s.Lines {
		var row map[string]json.RawMessage
		if json.Unmarshal(l.Data, &row) != nil || row == nil {
			continue // not an object: FastF1 drops the line too
		}
		raw, ok := row["Status"]
		if !ok {
			continue
		}
		status, err := text(raw)
		if err != nil {
			return nil, fmt.Errorf("sessionstatus: %s record %d (offset %s): %w", Feed, i+1, livetiming.FormatOffset(l.Offset), err)
		}
		out = append(out, Change{Time: l.Offset, Status: status})
	}
	return out, nil
}

// text returns a JSON string's value, "" for null.
func text(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return "", nil
	}
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("Status is %s, want a string", raw)
	}
	return s, nil
}
