package pyrepr

import (
	"math"
	"testing"
)

func TestFloat(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want string
	}{
		{"integral", 1393, "1393.0"},
		{"negative integral", -874, "-874.0"},
		{"zero", 0, "0.0"},
		{"negative zero", math.Copysign(0, -1), "-0.0"},
		{"float32-derived", -569.5805053710938, "-569.5805053710938"},
		{"long fraction", 153.78733177568182, "153.78733177568182"},
		{"small positional", 0.0001, "0.0001"},
		{"small exponent", 0.00001, "1e-05"},
		{"small exponent with digits", 0.000015, "1.5e-05"},
		{"below 1e16", 1e15, "1000000000000000.0"},
		{"1e16", 1e16, "1e+16"},
		{"large", 1.2345e22, "1.2345e+22"},
		{"nan", math.NaN(), "nan"},
		{"inf", math.Inf(1), "inf"},
		{"-inf", math.Inf(-1), "-inf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Float(tc.in); got != tc.want {
				t.Errorf("Float(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCSV(t *testing.T) {
	if CSV(math.NaN()) != "" || CSV(22) != "22.0" || CSV(0.6) != "0.6" {
		t.Error("pandas writes NaN as an empty cell and floats as repr")
	}
}
