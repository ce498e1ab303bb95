package kinds

import (
	"fmt"

	"github.com/paddock-f1/paddock/pkg/kind"
)

// WithVersion returns k as extractor version v: the same feeds, parse and
// store, recorded in the ledger as v. It is what a newer release of the
// kind looks like to the rest of paddock.
func WithVersion(k kind.Kind, v int) kind.Kind {
	spec := *k.Spec()
	spec.Version = v
	return versioned{Kind: k, spec: &spec}
}

type versioned struct {
	kind.Kind
	spec *kind.Spec
}

func (v versioned) Spec() *kind.Spec { return v.spec }

// Use puts k in the registry in place of the kind of the same name until
// restore is called. It is for tests that run paddock with a changed kind
// (a raised version): call it while no service runs, since services read
// the registry when they start and the planner on every plan.
func Use(k kind.Kind) (restore func()) {
	name := k.Spec().Name
	old := registry
	next := append([]kind.Kind(nil), registry...)
	for i := range next {
		if next[i].Spec().Name == name {
			next[i] = k
			registry = next
			return func() { registry = old }
		}
	}
	panic(fmt.Sprintf("kinds: Use(%q): no such kind in the registry", name))
}
