package kinds

import (
	"reflect"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/pkg/f1"
)

func TestParse(t *testing.T) {
	got, err := Parse([]string{" Weather", "weather"})
	if err != nil || !reflect.DeepEqual(got, []string{"weather"}) {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := Parse([]string{"tyres"}); err == nil || !strings.Contains(err.Error(), "use one of "+strings.Join(Names(), ", ")) {
		t.Fatalf("unknown kind: err = %v", err)
	}
	all, _ := Parse(nil)
	if !reflect.DeepEqual(all, Names()) {
		t.Fatalf("empty list = %v, want every kind", all)
	}
}

func TestSessionFeeds(t *testing.T) {
	names := func(fs []f1.Feed) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Name)
		}
		return out
	}
	weather := SessionFeeds([]string{"weather"}, f1.Key(2019, 14, "Qualifying"), "2019/x/y/", 0)
	if got := names(weather); !reflect.DeepEqual(got, []string{"WeatherData.jsonStream", "RaceControlMessages.jsonStream"}) {
		t.Fatalf("weather feeds %v", got)
	}
	if weather[0].Path != "/static/2019/x/y/WeatherData.jsonStream" || weather[0].Optional || !weather[1].Optional {
		t.Fatalf("weather feeds %+v", weather)
	}
	race := SessionFeeds([]string{"laps", "weather"}, f1.Key(2018, 4, "Race"), "p/", 0)
	got := names(race)
	if got[0] != "WeatherData.jsonStream" || got[1] != "TimingData.jsonStream" {
		t.Fatalf("required feeds first, cheapest first: %v", got)
	}
	want := map[string]string{"LapCount.jsonStream": "", f1.JolpicaLap1: "/ergast/f1/2018/4/laps/1.json", f1.JolpicaResults: "/ergast/f1/2018/4/results.json"}
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
	shootout := names(SessionFeeds([]string{"laps"}, f1.Key(2023, 4, "Sprint Shootout"), "p/", 0))
	for _, n := range shootout {
		if n == "LapCount.jsonStream" || n == f1.JolpicaLap1 || n == f1.JolpicaResults {
			t.Fatalf("a shootout has no %s", n)
		}
	}
}

func TestCircuitFeeds(t *testing.T) {
	known := SessionFeeds([]string{"circuit"}, f1.Key(2020, 8, "Race"), "p/", 39)
	if len(known) != 1 || known[0].Path != "/api/v1/circuits/39/2020" || known[0].Host != f1.MultiViewerHost {
		t.Fatalf("with a known key: %+v", known)
	}
	unknown := SessionFeeds([]string{"circuit", "weather"}, f1.Key(2020, 8, "Race"), "p/", 0)
	last := unknown[len(unknown)-1]
	if last.Name != f1.MultiViewerCircuit || last.Path != "" {
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

// TestAFeedIsFetchedOnce: with every kind, each document of a session is
// listed once, with every kind that reads it.
func TestAFeedIsFetchedOnce(t *testing.T) {
	feeds := SessionFeeds(Names(), f1.Key(2019, 14, "Qualifying"), "2019/x/y/", 39)
	seen := map[string]bool{}
	for _, f := range feeds {
		if seen[f.Name] {
			t.Errorf("%s listed twice", f.Name)
		}
		seen[f.Name] = true
		if f.Name == "RaceControlMessages.jsonStream" && !reflect.DeepEqual(f.Kinds, []string{"laps", "race-control", "weather"}) {
			t.Errorf("RaceControlMessages is read by %v", f.Kinds)
		}
		if f.Name == "DriverList.jsonStream" && (f.Optional || !reflect.DeepEqual(f.RequiredBy, []string{"drivers", "results"})) {
			t.Errorf("DriverList: %+v", f)
		}
	}
	want := map[string]bool{}
	for _, k := range All() {
		for _, n := range k.Spec().FeedsFor(2019, "Qualifying") {
			if !n.KeyLookup { // the circuit key is known
				want[n.Name()] = true
			}
		}
	}
	if len(feeds) != len(want) {
		t.Errorf("%d documents for a qualifying with every kind, want the %d distinct ones: %v", len(feeds), len(want), seen)
	}
}
