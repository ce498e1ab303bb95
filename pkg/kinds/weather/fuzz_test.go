package weather

import (
	"testing"

	"github.com/paddock-f1/paddock/pkg/fuzzseed"
	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/pkg/kind/kindtest"
)

// FuzzParse: the kind's parse of any WeatherData body, with or without a
// RaceControlMessages body to date it, takes both feeds whole or fails
// with the first bad line (kindtest.CheckWhole), one sample per object
// line, without panicking. Crashers found by `make fuzz` stay in
// testdata/fuzz/FuzzParse/.
func FuzzParse(f *testing.F) {
	rcm := fuzzseed.Streams(f, "*/static/*/*/*/RaceControlMessages.jsonStream")
	for i, b := range fuzzseed.Streams(f, "*/static/*/*/*/WeatherData.jsonStream") {
		f.Add(b, []byte{})
		f.Add(b, rcm[i%len(rcm)])
	}
	f.Fuzz(func(t *testing.T, body, rcmBody []byte) {
		feeds := kind.Feeds{feedWeather: body}
		if len(rcmBody) > 0 {
			feeds[feedRCM] = rcmBody
		}
		samples, err := parseFeeds(kind.Session{}, feeds)
		kindtest.CheckWhole(t, feedWeather, body, err)
		if len(rcmBody) > 0 {
			if _, _, aerr := Anchor(rcmBody); aerr != nil && err == nil {
				t.Fatalf("parse succeeded with a RaceControlMessages body Anchor rejects: %v", aerr)
			}
		}
		if err != nil {
			return
		}
		want, _ := Parse(body)
		if len(samples) != len(want) {
			t.Fatalf("parse made %d samples, Parse %d", len(samples), len(want))
		}
		for _, s := range samples {
			if s.WindDirection != nil && (*s.WindDirection < -32768 || *s.WindDirection > 32767) {
				t.Fatalf("wind direction %d", *s.WindDirection)
			}
		}
	})
}
