package laps

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// TestTruncatedTimingDataFailsWithItsLine cuts every recorded TimingData
// at 40% of its bytes, in the middle of a line: the laps kind fails naming
// the feed, the line and why, instead of deriving the laps of the first
// 40% of the session.
func TestTruncatedTimingDataFailsWithItsLine(t *testing.T) {
	tested := 0
	for _, s := range loadSessions(t) {
		in := s.input()
		if in.TimingData == nil {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			cut := len(in.TimingData) * 2 / 5
			for cut < len(in.TimingData) && (in.TimingData[cut-1] == '\n' || in.TimingData[cut] == '\r' || in.TimingData[cut] == '\n') {
				cut++ // mid-line: not right after or before a line end
			}
			full := len(in.TimingData)
			in.TimingData = in.TimingData[:cut]
			line := bytes.Count(in.TimingData, []byte("\n")) + 1
			feeds := kind.Feeds{"TimingData.jsonStream": in.TimingData, "TimingAppData.jsonStream": in.TimingAppData,
				"SessionInfo.jsonStream": in.SessionInfo, "DriverList.jsonStream": in.DriverList,
				"TrackStatus.jsonStream": in.TrackStatus, "SessionStatus.jsonStream": in.SessionStatus,
				"RaceControlMessages.jsonStream": in.RaceControlMessages}
			for name, b := range feeds {
				if b == nil {
					delete(feeds, name)
				}
			}
			_, err := Kind().Parse(kind.Session{}, feeds)
			var fe *livetiming.FormatError
			if err == nil {
				t.Fatalf("TimingData cut at byte %d of %d (in line %d): laps parsed without an error; want line %d named as truncated", cut, full, line, line)
			}
			if !errors.As(err, &fe) {
				t.Fatalf("TimingData cut at byte %d of %d: err = %v; want a *livetiming.FormatError", cut, full, err)
			}
			for _, want := range []string{"TimingData.jsonStream", fmt.Sprintf("line %d: ", line), "truncated"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if fe.Line != line {
				t.Errorf("FormatError.Line = %d, want %d", fe.Line, line)
			}
		})
		tested++
	}
	if tested == 0 {
		t.Fatal("no recorded TimingData")
	}
}
