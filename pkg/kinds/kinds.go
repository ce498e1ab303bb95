// Package kinds is the registry of the data kinds paddock extracts: one
// line per kind, in the order the README and help list them. Everything
// that knows about kinds reads this list: kind validation and --kinds, gap
// detection, the loader's feed plan, the extractors of the embedded
// default and of the extractor services, the schema, `paddock export` and
// the docs. Adding a kind is its folder under pkg/kinds/, its line here
// and its service main (docs/adding-a-kind.md).
package kinds

import (
	"fmt"
	"sort"
	"strings"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/pkg/kinds/cardata"
	"github.com/paddock-f1/paddock/pkg/kinds/circuit"
	"github.com/paddock-f1/paddock/pkg/kinds/drivers"
	"github.com/paddock-f1/paddock/pkg/kinds/laps"
	"github.com/paddock-f1/paddock/pkg/kinds/position"
	"github.com/paddock-f1/paddock/pkg/kinds/racecontrol"
	"github.com/paddock-f1/paddock/pkg/kinds/results"
	"github.com/paddock-f1/paddock/pkg/kinds/sessionstatus"
	"github.com/paddock-f1/paddock/pkg/kinds/trackstatus"
	"github.com/paddock-f1/paddock/pkg/kinds/weather"
	"github.com/paddock-f1/paddock/pkg/store"
)

// registry is the list: one line per kind. Kinds are immutable values.
var registry = []kind.Kind{
	weather.Kind(),
	laps.Kind(),
	circuit.Kind(),
	drivers.Kind(),
	racecontrol.Kind(),
	trackstatus.Kind(),
	sessionstatus.Kind(),
	results.Kind(),
	cardata.Kind(),
	position.Kind(),
}

// All returns every kind, in registry order.
func All() []kind.Kind { return append([]kind.Kind(nil), registry...) }

// Lookup returns the kind named name.
func Lookup(name string) (kind.Kind, bool) {
	for _, k := range registry {
		if k.Spec().Name == name {
			return k, true
		}
	}
	return nil, false
}

// MustLookup returns the kind named name; it panics for a name that is not
// in the registry (a programming error, not input).
func MustLookup(name string) kind.Kind {
	k, ok := Lookup(name)
	if !ok {
		panic("kinds: no kind " + name)
	}
	return k
}

// Names lists the kinds' names, sorted.
func Names() []string {
	var out []string
	for _, k := range registry {
		out = append(out, k.Spec().Name)
	}
	sort.Strings(out)
	return out
}

// Parse validates a kind list as a user gives it ("weather, Laps");
// empty means every kind. The result is sorted and free of duplicates;
// an unknown name fails with the accepted ones.
func Parse(list []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, k := range list {
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "" {
			continue
		}
		if _, ok := Lookup(k); !ok {
			return nil, fmt.Errorf("unknown kind %q: use one of %s", k, strings.Join(Names(), ", "))
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return Names(), nil
	}
	sort.Strings(out)
	return out, nil
}

// SessionFeeds lists the documents the named kinds need for one session,
// in fetch order, each once (see f1.SessionFeeds); unknown names are
// skipped.
func SessionFeeds(names []string, k f1.SessionKey, archivePath string, circuitKey int) []f1.Feed {
	var needs []f1.KindNeeds
	for _, name := range names {
		if kd, ok := Lookup(name); ok {
			needs = append(needs, f1.KindNeeds{Kind: name, Feeds: kd.Spec().Feeds})
		}
	}
	return f1.SessionFeeds(needs, k.Year, k.Round, k.Session, archivePath, circuitKey)
}

// Schemas are the kinds' migrations, in registry order, for store.Migrate.
func Schemas() []store.Schema {
	var out []store.Schema
	for _, k := range registry {
		if s := k.Spec(); s.Schema != nil {
			out = append(out, store.Schema{Name: s.Name, FS: s.Schema})
		}
	}
	return out
}

// Export finds the export named name ("laps", "corners") and its kind.
func Export(name string) (kind.Export, *kind.Spec, bool) {
	for _, k := range registry {
		for _, e := range k.Spec().Exports {
			if e.Name == name {
				return e, k.Spec(), true
			}
		}
	}
	return kind.Export{}, nil, false
}

// ExportNames lists every export's name, in registry order.
func ExportNames() []string {
	var out []string
	for _, k := range registry {
		for _, e := range k.Spec().Exports {
			out = append(out, e.Name)
		}
	}
	return out
}
