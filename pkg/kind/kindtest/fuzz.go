package kindtest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/paddock-f1/paddock/pkg/fuzzseed"
	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// CheckWhole checks a kind's parse of one jsonStream feed against the
// kinds' contract, for fuzz targets: a feed is taken whole or not at all.
// When livetiming.Whole(feed, body) fails, err must wrap a
// *livetiming.FormatError of that feed and line (a parse that succeeds
// there would have dropped lines).
func CheckWhole(t *testing.T, feed string, body []byte, err error) {
	t.Helper()
	_, werr := livetiming.Whole(feed, body)
	if werr != nil {
		var want *livetiming.FormatError
		errors.As(werr, &want)
		var fe *livetiming.FormatError
		if !errors.As(err, &fe) || fe.Feed != feed || fe.Line != want.Line {
			t.Fatalf("parse of a body Whole rejects (%v) returned err %v; want an error wrapping its *livetiming.FormatError", werr, err)
		}
	}
}

// TelemetrySeeds returns the seeds of a telemetry decoder's fuzz target
// from the recorded feeds named feed ("CarData.z.jsonStream"): of each,
// its first two lines as recorded, and its first line with its payload
// inflated, which a compressed stream takes as is and the fuzzer can
// mutate.
func TelemetrySeeds(tb testing.TB, feed string) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, p := range fuzzseed.Files(tb, "*/static/*/*/*/"+feed) {
		body := fuzzseed.Read(tb, p)
		lines := bytes.SplitAfterN(body, []byte{'\n'}, 3)
		head := bytes.Join(lines[:min(2, len(lines))], nil)
		s, err := livetiming.Decode(head, true)
		if err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		l := s.Lines[0]
		plain := append([]byte(livetiming.FormatOffset(l.Offset)), l.Data...)
		out = append(out, head, append(plain, '\r', '\n'))
	}
	return out
}

// CheckTelemetry checks a telemetry decoder's result on body (a feed
// named feed) against its contract: an error is a *livetiming.FormatError
// naming the feed and a line no later than the first line
// livetiming.Whole rejects (a bad line is never decoded past); success
// means every line decodes, and the rows emitted are the Summary's count.
func CheckTelemetry(t *testing.T, feed string, body []byte, emitted, summaryRows int, err error) {
	t.Helper()
	_, werr := livetiming.Whole(feed, body)
	var bad *livetiming.FormatError
	if !errors.As(werr, &bad) || bad.Line == 0 {
		bad = nil // empty, or blank lines only: no line to fail on
	}
	if err == nil {
		if bad != nil {
			t.Fatalf("decoded a body whose line %d does not decode: %v", bad.Line, werr)
		}
		if emitted != summaryRows {
			t.Fatalf("emitted %d rows, Summary says %d", emitted, summaryRows)
		}
		return
	}
	var fe *livetiming.FormatError
	if !errors.As(err, &fe) || fe.Feed != feed || fe.Line < 1 {
		t.Fatalf("error %v; want a *livetiming.FormatError naming %s and a line", err, feed)
	}
	if bad != nil && fe.Line > bad.Line {
		t.Fatalf("failed on line %d, after line %d that does not decode (%v): %v", fe.Line, bad.Line, werr, err)
	}
}
