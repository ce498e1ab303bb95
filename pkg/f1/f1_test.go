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
	if _, err := ParseKinds([]string{"tyres"}); err == nil || !strings.Contains(err.Error(), "use one of weather") {
		t.Fatalf("unknown kind: err = %v", err)
	}
	all, _ := ParseKinds(nil)
	if !reflect.DeepEqual(all, KindNames()) {
		t.Fatalf("empty list = %v, want every kind", all)
	}
}

func TestFeedPlanRequiredFirstCheapestFirst(t *testing.T) {
	got := FeedPlan([]string{"weather"})
	want := []FeedNeed{{File: "WeatherData.jsonStream"}, {File: "RaceControlMessages.jsonStream", Optional: true}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("FeedPlan = %v, want %v", got, want)
	}
}

func TestSessionCode(t *testing.T) {
	if SessionCode("Sprint Qualifying") != "SQ" || SessionCode("Day 1") != "Day_1" {
		t.Fatal("SessionCode")
	}
}
