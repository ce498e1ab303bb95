package f1

import (
	"strings"
	"testing"
)

func TestParseSession(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{in: "Qualifying", want: "Qualifying"},
		{in: "q", want: "Qualifying"},
		{in: "FP2", want: "Practice 2"},
		{in: "practice_1", want: "Practice 1"},
		{in: "SQ", want: "Sprint Qualifying"},
		{in: "SS", want: "Sprint Shootout"},
		{in: "S", want: "Sprint"},
		{in: "R", want: "Race"},
		{in: "Warmup", err: `unknown session "Warmup"`},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseSession(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestJolpicaResultsPath(t *testing.T) {
	cases := map[string]string{
		"Race": "/ergast/f1/2024/5/results.json", "Practice 2": "/ergast/f1/2024/5/results.json",
		"Qualifying": "/ergast/f1/2024/5/qualifying.json", "Sprint": "/ergast/f1/2024/5/sprint.json",
		"Sprint Qualifying": "", "Sprint Shootout": "",
	}
	for s, want := range cases {
		if got := JolpicaResultsPath(2024, 5, s); got != want {
			t.Errorf("%s: %q, want %q", s, got, want)
		}
	}
	if JolpicaResultsPath(2021, 10, "Sprint Qualifying") != "/ergast/f1/2021/10/sprint.json" {
		t.Error("2021's sprint qualifying was the sprint race")
	}
}

func TestSessionCode(t *testing.T) {
	if SessionCode("Sprint Qualifying") != "SQ" || SessionCode("Day 1") != "Day_1" {
		t.Fatal("SessionCode")
	}
}

func TestCorrectCircuitKey(t *testing.T) {
	cases := []struct {
		key       int
		shortName string
		want      int
	}{
		{149, "Mugello", 146}, // the feed mislabels Mugello as Jeddah
		{149, "Jeddah", 149},  // the real Jeddah stays
		{149, "mugello", 149}, // exact match only, as FastF1
		{39, "Monza", 39},
	}
	for _, c := range cases {
		if got := CorrectCircuitKey(c.key, c.shortName); got != c.want {
			t.Errorf("CorrectCircuitKey(%d, %q) = %d, want %d", c.key, c.shortName, got, c.want)
		}
	}
	if CircuitPath(CorrectCircuitKey(149, "Mugello"), 2020) != "/api/v1/circuits/146/2020" {
		t.Error("CircuitPath of corrected Mugello")
	}
}
