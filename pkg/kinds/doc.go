package kinds

import (
	"fmt"
	"strings"

	"github.com/paddock-f1/paddock/pkg/f1"
)

// Markdown is the README's table of kinds, made from the registry: per
// kind its extractor service, what it carries, the feeds it reads
// (required first; optional ones in italics, with when they apply) and
// its exports with their columns.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| kind | service | what it carries | feeds (optional in italics) | `paddock export` and its columns |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, k := range registry {
		s := k.Spec()
		var feeds []string
		for _, n := range s.Feeds {
			name := strings.TrimSuffix(n.Name(), ".jsonStream")
			if title, ok := feedTitles[name]; ok {
				name = title
			}
			if n.KeyLookup {
				name += " (for the circuit key)"
			}
			if n.When != nil {
				name += " (" + whenText(n) + ")"
			}
			if n.Optional {
				name = "*" + name + "*"
			}
			feeds = append(feeds, name)
		}
		var exports []string
		for _, e := range s.Exports {
			scope := "--year --round --session"
			if e.PerEvent {
				scope = "--year --round"
			}
			exports = append(exports, fmt.Sprintf("`%s` (%s): %s", e.Name, scope, strings.ReplaceAll(e.Header, ",", ", ")))
		}
		about := s.About
		if s.PerEvent {
			about += " (once per event)"
		}
		fmt.Fprintf(&b, "| %s | extract-%s | %s | %s | %s |\n", s.Name, s.Name, about, strings.Join(feeds, ", "), strings.Join(exports, "<br>"))
	}
	return b.String()
}

// feedTitles name the documents that are not live-timing feeds.
var feedTitles = map[string]string{
	f1.JolpicaLap1:        "Jolpica laps/1",
	f1.JolpicaResults:     "Jolpica results, qualifying or sprint",
	f1.MultiViewerCircuit: "MultiViewer circuit",
}

// whenText describes a feed's condition by probing it over a season's
// sessions.
func whenText(n f1.FeedNeed) string {
	var yes []string
	for _, s := range f1.SessionNames() {
		if n.When(2024, s) {
			yes = append(yes, s)
		}
	}
	if n.When(2023, "Sprint Qualifying") && !n.When(2024, "Sprint Qualifying") {
		yes = append(yes, "Sprint Qualifying until 2023")
	}
	return strings.Join(yes, ", ")
}
