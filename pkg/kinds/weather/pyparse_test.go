package weather

import (
	"math"
	"testing"
)

// Expected values checked against CPython 3 float()/int().
func TestParsePyFloat(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want float64 // NaN means "want NaN"
		ok   bool
	}{
		{name: "spaces", in: " 22 ", want: 22, ok: true},
		{name: "underscores", in: "1_000.5", want: 1000.5, ok: true},
		{name: "exponent", in: "1e3", want: 1000, ok: true},
		{name: "trailing dot", in: "1.", want: 1, ok: true},
		{name: "dot exponent", in: "1.e5", want: 1e5, ok: true},
		{name: "leading dot", in: ".5", want: 0.5, ok: true},
		{name: "signed nan", in: "+nan", want: math.NaN(), ok: true},
		{name: "infinity", in: "infinity", want: math.Inf(1), ok: true},
		{name: "negative inf", in: "-inf", want: math.Inf(-1), ok: true},
		{name: "overflow", in: "1e400", want: math.Inf(1), ok: true},
		{name: "hex", in: "0x1p3"},
		{name: "double underscore", in: "1__0"},
		{name: "underscore before e", in: "1_e5"},
		{name: "leading underscore", in: "_1"},
		{name: "empty", in: ""},
		{name: "text", in: "n/a"},
		{name: "double sign", in: "--1"},
		{name: "lone dot", in: "."},
		{name: "exponent without digits", in: "1e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parsePyFloat(tt.in)
			if ok != tt.ok {
				t.Fatalf("parsePyFloat(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			}
			if !ok {
				return
			}
			if math.IsNaN(tt.want) != math.IsNaN(got) || !math.IsNaN(got) && got != tt.want {
				t.Errorf("parsePyFloat(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParsePyInt(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int64
		ok   bool
	}{
		{name: "plain", in: "238", want: 238, ok: true},
		{name: "signed with spaces and underscore", in: " +3_5 ", want: 35, ok: true},
		{name: "leading zeros", in: "007", want: 7, ok: true},
		{name: "negative zero", in: "-0", want: 0, ok: true},
		{name: "decimal point", in: "238.0"},
		{name: "exponent", in: "1e3"},
		{name: "empty", in: ""},
		{name: "trailing underscore", in: "1_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parsePyInt(tt.in)
			if ok != tt.ok || got != tt.want {
				t.Errorf("parsePyInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
