package livetiming

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestMerge(t *testing.T) {
	tests := []struct {
		name    string
		patches []string
		want    string
	}{
		{
			name:    "first line is full state",
			patches: []string{`{"Status":"1","Message":"AllClear"}`},
			want:    `{"Status":"1","Message":"AllClear"}`,
		},
		{
			name:    "nested objects merged, unchanged values kept",
			patches: []string{`{"Lines":{"44":{"Position":"1","InPit":false}}}`, `{"Lines":{"44":{"Position":"2"},"33":{"Position":"1"}}}`},
			want:    `{"Lines":{"44":{"Position":"2","InPit":false},"33":{"Position":"1"}}}`,
		},
		{
			name: "list then index-keyed updates",
			patches: []string{
				`{"Sectors":[{"Value":"30.1"},{"Value":"31.2"},{"Value":""}]}`,
				`{"Sectors":{"1":{"Value":"29.9","PersonalFastest":true}}}`,
			},
			want: `{"Sectors":[{"Value":"30.1"},{"Value":"29.9","PersonalFastest":true},{"Value":""}]}`,
		},
		{
			name:    "empty list grows",
			patches: []string{`{"Stints":[]}`, `{"Stints":{"0":{"Compound":"SOFT"}}}`, `{"Stints":{"0":{"TotalLaps":3},"2":{"Compound":"HARD"}}}`},
			want:    `{"Stints":[{"Compound":"SOFT","TotalLaps":3},null,{"Compound":"HARD"}]}`,
		},
		{
			name:    "non-index keys turn a list into an object",
			patches: []string{`{"X":[1,2]}`, `{"X":{"a":3}}`},
			want:    `{"X":{"0":1,"1":2,"a":3}}`,
		},
		{
			name:    "list patch replaces",
			patches: []string{`{"X":[1,2,3]}`, `{"X":[4]}`},
			want:    `{"X":[4]}`,
		},
		{
			name:    "object replaces scalar and scalar replaces object",
			patches: []string{`{"A":1,"B":{"c":1}}`, `{"A":{"x":true},"B":"s"}`},
			want:    `{"A":{"x":true},"B":"s"}`,
		},
		{
			name:    "null is stored",
			patches: []string{`{"A":1}`, `{"A":null}`},
			want:    `{"A":null}`,
		},
		{
			name:    "_deleted removes keys",
			patches: []string{`{"BestLapTime":{"Value":"1:20.1","Lap":3}}`, `{"BestLapTime":{"Value":"","_deleted":["Lap"]}}`},
			want:    `{"BestLapTime":{"Value":""}}`,
		},
		{
			name:    "_deleted on list nils the index",
			patches: []string{`{"L":[1,2,3]}`, `{"L":{"_deleted":["1"],"2":9}}`},
			want:    `{"L":[1,null,9]}`,
		},
		{
			name:    "_deleted on a new object",
			patches: []string{`{"D":{"Tla":"BEG","_deleted":["TeamName"]}}`},
			want:    `{"D":{"Tla":"BEG"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := map[string]any{}
			for _, p := range tt.patches {
				Merge(dst, decodeMap(t, p))
			}
			if want := decodeMap(t, tt.want); !reflect.DeepEqual(dst, want) {
				got, _ := json.Marshal(dst)
				t.Errorf("Merge result = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestMergeDoesNotAliasPatch checks that later merges never modify a patch
// that an earlier merge inserted.
func TestMergeDoesNotAliasPatch(t *testing.T) {
	first := decodeMap(t, `{"Lines":{"44":{"Sectors":[{"Value":"1"}]}}}`)
	dst := map[string]any{}
	Merge(dst, first)
	Merge(dst, decodeMap(t, `{"Lines":{"44":{"Sectors":{"0":{"Value":"2"}}}}}`))
	if want := decodeMap(t, `{"Lines":{"44":{"Sectors":[{"Value":"1"}]}}}`); !reflect.DeepEqual(first, want) {
		t.Errorf("first patch was modified: %v", first)
	}
}

// TestMergeFarIndexDoesNotGrowTheList: a patch index far beyond a list's
// end (a DriverList line of a few bytes, {"L":{"10000000":1}}) turns the
// list into an object instead of growing it to ten million elements, so a
// feed cannot make Merge allocate without bound; nothing is lost.
func TestMergeFarIndexDoesNotGrowTheList(t *testing.T) {
	dst := map[string]any{}
	Merge(dst, decodeMap(t, `{"L":[1]}`))
	Merge(dst, decodeMap(t, `{"L":{"10000000":2}}`))
	if l, ok := dst["L"].([]any); ok {
		t.Fatalf("Merge grew the list to %d elements for one index", len(l))
	}
	if want := decodeMap(t, `{"L":{"0":1,"10000000":2}}`); !reflect.DeepEqual(dst, want) {
		got, _ := json.Marshal(dst)
		t.Fatalf("Merge result = %s, want %s", got, `{"L":{"0":1,"10000000":2}}`)
	}
}

func decodeMap(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}
