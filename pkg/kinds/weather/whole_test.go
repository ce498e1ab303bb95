package weather

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// TestInvalidLineFailsWeather replaces one line in the middle of every
// recorded WeatherData with one that is not JSON: the weather kind fails
// naming the feed, the line and why, instead of storing one sample less.
func TestInvalidLineFailsWeather(t *testing.T) {
	for _, path := range recordedWeather(t) {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := bytes.SplitAfter(body, []byte("\n"))
			at := len(lines) / 2
			lines[at] = []byte("00:10:00.000{\"AirTemp\":\"22.1\",\"Humidity\":}\r\n")
			feeds := kind.Feeds{feedWeather: bytes.Join(lines, nil)}
			_, err = Kind().Parse(kind.Session{}, feeds)
			var fe *livetiming.FormatError
			if err == nil {
				t.Fatalf("line %d of %d is not JSON: weather parsed without an error", at+1, len(lines))
			}
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v; want a *livetiming.FormatError", err)
			}
			for _, want := range []string{feedWeather, fmt.Sprintf("line %d: ", at+1), "not valid JSON"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

// TestInvalidClockLineFailsWeather: RaceControlMessages dates the samples;
// a line of it that does not decode fails weather too, rather than
// leaving the samples undated or dated by part of the feed.
func TestInvalidClockLineFailsWeather(t *testing.T) {
	path := recordedWeather(t)[0]
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rcm, err := os.ReadFile(strings.TrimSuffix(path, "WeatherData.jsonStream") + "RaceControlMessages.jsonStream")
	if err != nil {
		t.Skip("no RaceControlMessages beside", path)
	}
	cut := rcm[:len(rcm)-10]
	line := bytes.Count(cut, []byte("\n")) + 1
	_, err = Kind().Parse(kind.Session{}, kind.Feeds{feedWeather: body, feedRCM: cut})
	if err == nil || !strings.Contains(err.Error(), feedRCM) || !strings.Contains(err.Error(), fmt.Sprintf("line %d: ", line)) {
		t.Fatalf("parse with RaceControlMessages cut in its last line: err = %v, want %s line %d", err, feedRCM, line)
	}
}
