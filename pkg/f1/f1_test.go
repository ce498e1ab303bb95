package f1

import (
	"reflect"
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

func TestParseKinds(t *testing.T) {
	got, err := ParseKinds([]string{" Weather", "weather"})
	if err != nil || !reflect.DeepEqual(got, []string{"weather"}) {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := ParseKinds([]string{"tyres"}); err == nil || !strings.Contains(err.Error(), "use one of circuit, drivers, laps, weather") {
		t.Fatalf("unknown kind: err = %v", err)
	}
	all, _ := ParseKinds(nil)
	if !reflect.DeepEqual(all, KindNames()) {
		t.Fatalf("empty list = %v, want every kind", all)
	}
}

func TestSessionFeeds(t *testing.T) {
	names := func(fs []Feed) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Name)
		}
		return out
	}
	weather := SessionFeeds([]string{"weather"}, 2019, 14, "Qualifying", "2019/x/y/", 0)
	if got := names(weather); !reflect.DeepEqual(got, []string{"WeatherData.jsonStream", "RaceControlMessages.jsonStream"}) {
		t.Fatalf("weather feeds %v", got)
	}
	if weather[0].Path != "/static/2019/x/y/WeatherData.jsonStream" || weather[0].Optional || !weather[1].Optional {
		t.Fatalf("weather feeds %+v", weather)
	}
	race := SessionFeeds([]string{"laps", "weather"}, 2018, 4, "Race", "p/", 0)
	got := names(race)
	if got[0] != "WeatherData.jsonStream" || got[1] != "TimingData.jsonStream" {
		t.Fatalf("required feeds first, cheapest first: %v", got)
	}
	want := map[string]string{"LapCount.jsonStream": "", JolpicaLap1: "/ergast/f1/2018/4/laps/1.json", JolpicaResults: "/ergast/f1/2018/4/results.json"}
	for _, f := range race {
		if p, ok := want[f.Name]; ok {
			if p != "" && f.Path != p {
				t.Errorf("%s path %s, want %s", f.Name, f.Path, p)
			}
			delete(want, f.Name)
		}
		if f.Name == "RaceControlMessages.jsonStream" && len(f.Kinds) != 2 {
			t.Errorf("RaceControlMessages is read by %v, want laps and weather", f.Kinds)
		}
	}
	if len(want) != 0 {
		t.Fatalf("race feeds lack %v", want)
	}
	shootout := names(SessionFeeds([]string{"laps"}, 2023, 4, "Sprint Shootout", "p/", 0))
	for _, n := range shootout {
		if n == "LapCount.jsonStream" || n == JolpicaLap1 || n == JolpicaResults {
			t.Fatalf("a shootout has no %s", n)
		}
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

func TestCircuitFeeds(t *testing.T) {
	known := SessionFeeds([]string{"circuit"}, 2020, 8, "Race", "p/", 39)
	if len(known) != 1 || known[0].Path != "/api/v1/circuits/39/2020" || known[0].Host != MultiViewerHost {
		t.Fatalf("with a known key: %+v", known)
	}
	unknown := SessionFeeds([]string{"circuit", "weather"}, 2020, 8, "Race", "p/", 0)
	last := unknown[len(unknown)-1]
	if last.Name != MultiViewerCircuit || last.Path != "" {
		t.Fatalf("the layout must come last, its path unknown: %+v", unknown)
	}
	found := false
	for _, f := range unknown {
		found = found || f.Name == "SessionInfo.jsonStream"
	}
	if !found {
		t.Fatalf("without a key SessionInfo is read for it: %+v", unknown)
	}
}
