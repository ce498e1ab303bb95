package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/streams"
)

// TestSkippedLinesShown: a kind done with skipped lines is named, with how
// many and which, in the import's summary and in 'paddock status --run'.
func TestSkippedLinesShown(t *testing.T) {
	const line = "2019/14/Qualifying weather: 1 line skipped (WeatherData.jsonStream: blank line 49)"
	s := &streams.Summary{RunID: "r", Year: 2019, Status: "completed", DataExtracted: map[string]int{"weather": 1}, Skipped: []string{line}}
	var out bytes.Buffer
	printSummary(&out, "Import", s, &streams.GapReport{Year: 2019}, nil, false)
	if !strings.Contains(out.String(), "  skipped: "+line+"\n") {
		t.Errorf("summary does not show the skipped line:\n%s", out.String())
	}

	d := &runDetail{Kinds: []kindStatus{{Kind: "weather", Done: 1, Rows: 95,
		Skipped: []sessionItem{{SessionKey: streams.Key(2019, 14, "Qualifying"), Reason: "1 line skipped (WeatherData.jsonStream: blank line 49)"}}}}}
	out.Reset()
	printRun(&out, d)
	for _, want := range []string{"weather done with lines skipped: 1 session", "1 line skipped (WeatherData.jsonStream: blank line 49)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status --run lacks %q:\n%s", want, out.String())
		}
	}
}
