package jsonwalk

import (
	"encoding/json"
	"strings"
	"testing"
)

// checkSyntax walks b as one JSON document with Doc.
func checkSyntax(b []byte) error {
	var p Doc
	p.Reset(b)
	p.Skip()
	p.End()
	return p.Err
}

var jsonSeeds = []string{
	`{"Entries":[{"Utc":"2020-08-08T09:45:03.0619797Z","Cars":{"44":{"Channels":{"0":1,"2":2.5e3,"45":-0}}}}]}`,
	`[]`, `{}`, `[1,2,]`, `{"a":1,}`, `{"a" 1}`, `{"a":}`, `[01]`, `[-]`, `[1.]`, `[1e]`, `[1e+5]`, `[.5]`,
	`"\u00e9\n\"\\\/"`, `"\x"`, `"\u12"`, "\"a\tb\"", `tru`, `true `, ` null`, `nul`, `{"a":1}x`, `{"a":[1,{"b":null}]}`,
	`[1 2]`, `{,}`, `[,1]`, `"`, ``, ` `, `{"a":"\ud800"}`, `-0.0E-0`, `[[[[]]]]`, `{"a":{"b":{"c":[true,false]}}}`, "\"\"\x00", "[\x00]", "{\"a\":1\x00}",
}

// TestJSONSyntax: Doc accepts exactly what encoding/json.Valid accepts.
func TestJSONSyntax(t *testing.T) {
	t.Parallel()
	for _, s := range append(jsonSeeds, strings.Repeat("[", 10001)+strings.Repeat("]", 10001)) {
		if got, want := checkSyntax([]byte(s)) == nil, json.Valid([]byte(s)); got != want {
			t.Errorf("%.60q: Doc accepts %v, json.Valid %v (%v)", s, got, want, checkSyntax([]byte(s)))
		}
	}
}

func FuzzJSONSyntax(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := checkSyntax(b) == nil, json.Valid(b); got != want {
			t.Errorf("%q: Doc accepts %v, json.Valid %v (%v)", b, got, want, checkSyntax(b))
		}
	})
}
