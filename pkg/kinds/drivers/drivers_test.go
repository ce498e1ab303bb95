package drivers

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/pkg/livetiming"
)

const (
	recordedDir  = "../../../testdata/f1/recorded"
	referenceDir = "../../../testdata/f1/reference"
	hungary23FP1 = recordedDir + "/livetiming.formula1.com/static/2023/2023-07-23_Hungarian_Grand_Prix/2023-07-21_Practice_1/DriverList.jsonStream"
	monza25FP1   = recordedDir + "/livetiming.formula1.com/static/2025/2025-09-07_Italian_Grand_Prix/2025-09-05_Practice_1/DriverList.jsonStream"
)

// recordedDriverLists returns the paths of every recorded DriverList stream.
func recordedDriverLists(t *testing.T) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(recordedDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "DriverList.jsonStream" {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", recordedDir, err)
	}
	if len(paths) == 0 {
		t.Fatal("no recorded DriverList.jsonStream")
	}
	return paths
}

func parseFile(t *testing.T, path string) []Driver {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	ds, err := Parse(body)
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	return ds
}

func TestParseAllRecorded(t *testing.T) {
	for _, p := range recordedDriverLists(t) {
		name, _ := filepath.Rel(recordedDir, filepath.Dir(p))
		t.Run(name, func(t *testing.T) {
			ds := parseFile(t, p)
			if len(ds) < 10 {
				t.Errorf("%d drivers, want >= 10", len(ds))
			}
			if len(ds) > 22 {
				t.Errorf("%d drivers: support-series drivers leaked in", len(ds))
			}
			seen := map[string]bool{}
			for i, d := range ds {
				if d.Number == "" || d.Abbreviation == "" {
					t.Errorf("driver %d: empty Number or Abbreviation: %+v", i, d)
				}
				if seen[d.Number] {
					t.Errorf("duplicate number %s", d.Number)
				}
				seen[d.Number] = true
				if i > 0 && !lessNumber(ds[i-1].Number, d.Number) {
					t.Errorf("not sorted: %s before %s", ds[i-1].Number, d.Number)
				}
			}
		})
	}
}

// firstLineIdentity returns the Tla per racing number of a stream's first
// line: in the recordings every F1 driver is declared there.
func firstLineIdentity(t *testing.T, path string) map[string]string {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	s, err := livetiming.Decode(body, false)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	var first map[string]map[string]any
	if err := json.Unmarshal(s.Lines[0].Data, &first); err != nil {
		t.Fatalf("first line: %v", err)
	}
	out := map[string]string{}
	for num, e := range first {
		out[num], _ = e["Tla"].(string)
	}
	return out
}

func TestSupportSeriesExcluded(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		takeover string // a support-series Tla declared after the cutoff
	}{
		{"2023 Hungary FP1 (F2/F3 from 01:37:38)", hungary23FP1, "ARO"},
		{"2025 Monza FP1 (from 01:30:35)", monza25FP1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := parseFile(t, tc.path)
			want := firstLineIdentity(t, tc.path)
			if len(ds) != len(want) || len(ds) != 20 {
				t.Fatalf("%d drivers, want the %d of the first line (20)", len(ds), len(want))
			}
			for _, d := range ds {
				if want[d.Number] != d.Abbreviation {
					t.Errorf("driver %s: Tla %q, want F1's %q", d.Number, d.Abbreviation, want[d.Number])
				}
				if d.Abbreviation == tc.takeover || d.TeamName == "" || d.FirstName == "" {
					t.Errorf("driver %s carries support-series data: %+v", d.Number, d)
				}
				if d.Line < 1 || d.Line > 20 {
					t.Errorf("driver %s: Line %d outside 1..20", d.Number, d.Line)
				}
			}
		})
	}
}

func TestCutoffRule(t *testing.T) {
	const first = "00:00:01.000{\"1\":{\"RacingNumber\":\"1\",\"Tla\":\"VER\",\"Line\":1,\"FirstName\":\"Max\",\"LastName\":\"Verstappen\",\"TeamName\":\"Red Bull Racing\"}," +
		"\"44\":{\"RacingNumber\":\"44\",\"Tla\":\"HAM\",\"Line\":2,\"FullName\":\"Lewis HAMILTON\"}}\r\n"
	tests := []struct {
		name      string
		later     string
		wantNums  []string
		wantLine1 int
		wantTla1  string
		wantTeam1 string
	}{
		{"new driver within 60 min is kept", "00:59:59.999{\"5\":{\"Tla\":\"NEW\",\"Line\":3}}\r\n",
			[]string{"1", "5", "44"}, 1, "VER", "Red Bull Racing"},
		{"identity change within 60 min applies", "00:30:00.000{\"1\":{\"TeamName\":\"RBR\"}}\r\n",
			[]string{"1", "44"}, 1, "VER", "RBR"},
		{"exactly 60 min still counts (FastF1: td > cutoff)", "01:00:00.000{\"5\":{\"Tla\":\"NEW\"}}\r\n",
			[]string{"1", "5", "44"}, 1, "VER", "Red Bull Racing"},
		{"Line-only patch after 60 min applies", "01:20:00.000{\"1\":{\"Line\":2},\"44\":{\"Line\":1}}\r\n",
			[]string{"1", "44"}, 2, "VER", "Red Bull Racing"},
		{"new driver after 60 min ends the data", "01:00:00.001{\"1\":{\"Line\":2},\"5\":{\"Tla\":\"NEW\"}}\r\n" +
			"01:10:00.000{\"1\":{\"Line\":3}}\r\n",
			[]string{"1", "44"}, 1, "VER", "Red Bull Racing"},
		{"identity change after 60 min ends the data", "01:30:00.000{\"1\":{\"Tla\":\"ARO\",\"_deleted\":[\"TeamName\"]}}\r\n",
			[]string{"1", "44"}, 1, "VER", "Red Bull Racing"},
		{"_deleted honoured within 60 min", "00:10:00.000{\"1\":{\"_deleted\":[\"Line\"]}}\r\n",
			[]string{"1", "44"}, 0, "VER", "Red Bull Racing"},
		{"non-object lines and entries ignored", "00:10:00.000[1,2]\r\n00:11:00.000{\"x\":true}\r\n",
			[]string{"1", "44"}, 1, "VER", "Red Bull Racing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Parse([]byte("\ufeff" + first + tc.later))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var nums []string
			for _, d := range ds {
				nums = append(nums, d.Number)
			}
			if !slices.Equal(nums, tc.wantNums) {
				t.Fatalf("numbers %v, want %v", nums, tc.wantNums)
			}
			d := ds[0]
			if d.Line != tc.wantLine1 || d.Abbreviation != tc.wantTla1 || d.TeamName != tc.wantTeam1 {
				t.Errorf("driver 1 = %+v, want Line %d Tla %q TeamName %q", d, tc.wantLine1, tc.wantTla1, tc.wantTeam1)
			}
			if d.FullName != "Max Verstappen" || ds[len(ds)-1].FullName != "Lewis HAMILTON" {
				t.Errorf("FullName: %q / %q, want FastF1's \"Max Verstappen\" and the feed's when names are missing",
					d.FullName, ds[len(ds)-1].FullName)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{"empty body", "", "empty body"},
		{"no decodable line", "garbage\r\nmore garbage\r\n", "none of 2 lines decodes"},
		{"no object line", "00:00:01.000[]\r\n00:00:02.000\"x\"\r\n", "no line holds a JSON object"},
		{"only drivers after cutoff", "01:00:01.000{\"1\":{\"Tla\":\"VER\"}}\r\n", "no driver declared within 1h0m0s"},
		{"no driver objects", "00:00:01.000{\"1\":5}\r\n", "no driver declared"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Parse([]byte(tc.body))
			if err == nil {
				t.Fatalf("Parse = %+v, want error", ds)
			}
			if !strings.HasPrefix(err.Error(), "drivers: DriverList.jsonStream") || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q, want prefix \"drivers: DriverList.jsonStream\" and %q", err, tc.wantErr)
			}
		})
	}
}

func TestSortNumeric(t *testing.T) {
	body := "00:00:01.000{\"44\":{\"Tla\":\"HAM\"},\"5\":{\"Tla\":\"VET\"},\"x\":{\"Tla\":\"XXX\"},\"10\":{\"Tla\":\"GAS\",\"RacingNumber\":\"\"}}\r\n"
	ds, err := Parse([]byte(body))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.Number)
	}
	if want := []string{"5", "10", "44", "x"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func TestWriteCSV(t *testing.T) {
	tests := []struct {
		name string
		ds   []Driver
		want string
	}{
		{"empty", nil, "DriverNumber,Abbreviation,FirstName,LastName,FullName,BroadcastName,TeamName,TeamColor,HeadshotUrl,CountryCode\n"},
		{"one driver with a comma", []Driver{{Number: "1", Abbreviation: "VER", FirstName: "Max", LastName: "Verstappen",
			FullName: "Max Verstappen", BroadcastName: "M VERSTAPPEN", TeamName: "Red Bull, Racing", TeamColour: "3671C6",
			HeadshotURL: "https://x/y.png", CountryCode: "NED", Line: 1}},
			"DriverNumber,Abbreviation,FirstName,LastName,FullName,BroadcastName,TeamName,TeamColor,HeadshotUrl,CountryCode\n" +
				"1,VER,Max,Verstappen,Max Verstappen,M VERSTAPPEN,\"Red Bull, Racing\",3671C6,https://x/y.png,NED\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCSV(&buf, tc.ds); err != nil {
				t.Fatalf("WriteCSV: %v", err)
			}
			if buf.String() != tc.want {
				t.Errorf("WriteCSV =\n%q\nwant\n%q", buf.String(), tc.want)
			}
		})
	}
}

func TestWriteCSVHeaderMatchesFastF1Results(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, nil); err != nil {
		t.Fatal(err)
	}
	ours := strings.Split(strings.TrimSpace(buf.String()), ",")
	f, err := os.ReadFile(filepath.Join(referenceDir, "2019_14_Italian_Grand_Prix_Qualifying", "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	theirs := strings.Split(strings.SplitN(string(f), "\n", 2)[0], ",")
	for _, c := range ours {
		if !slices.Contains(theirs, c) {
			t.Errorf("column %q is not in FastF1's results.csv header %v", c, theirs)
		}
	}
}

func TestAgreesWithFastF1Results(t *testing.T) {
	// comparedColumns are the results.csv columns checked against Parse, with
	// the Driver field each one corresponds to.
	comparedColumns := []struct {
		col string
		get func(Driver) string
	}{
		{"Abbreviation", func(d Driver) string { return d.Abbreviation }},
		{"BroadcastName", func(d Driver) string { return d.BroadcastName }},
		{"TeamName", func(d Driver) string { return d.TeamName }},
		{"TeamColor", func(d Driver) string { return d.TeamColour }},
		{"FirstName", func(d Driver) string { return d.FirstName }},
		{"LastName", func(d Driver) string { return d.LastName }},
		{"FullName", func(d Driver) string { return d.FullName }},
		{"HeadshotUrl", func(d Driver) string { return d.HeadshotURL }},
		{"CountryCode", func(d Driver) string { return d.CountryCode }},
	}
	entries, err := os.ReadDir(referenceDir)
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, e := range entries {
		results := filepath.Join(referenceDir, e.Name(), "results.csv")
		if _, err := os.Stat(results); err != nil {
			continue
		}
		stream, ok := recordedStreamFor(t, filepath.Join(referenceDir, e.Name(), "info.json"))
		if !ok {
			t.Logf("%s: no recorded DriverList, skipped", e.Name())
			continue
		}
		compared++
		t.Run(e.Name(), func(t *testing.T) {
			ours := map[string]Driver{}
			for _, d := range parseFile(t, stream) {
				ours[d.Number] = d
			}
			rows := readCSV(t, results)
			cells, agree, absent := 0, 0, 0
			for _, row := range rows {
				d, ok := ours[row["DriverNumber"]]
				if !ok {
					t.Errorf("driver %s (%s) in results.csv but not in the DriverList", row["DriverNumber"], row["Abbreviation"])
					continue
				}
				delete(ours, row["DriverNumber"])
				for _, c := range comparedColumns {
					cells++
					got, want := c.get(d), row[c.col]
					if got == "" && want == "None" {
						// FastF1 stores a field the feed never sent as
						// Python None and writes it as the string "None".
						absent++
						continue
					}
					if got != want {
						t.Errorf("driver %s %s: ours %q, FastF1 %q", d.Number, c.col, got, want)
						continue
					}
					agree++
				}
			}
			for num := range ours {
				t.Errorf("driver %s in the DriverList but not in results.csv", num)
			}
			t.Logf("%d drivers, %d/%d cells equal, %d absent in the feed (FastF1 \"None\", ours \"\")", len(rows), agree, cells, absent)
		})
	}
	if compared < 5 {
		t.Errorf("only %d reference sessions compared", compared)
	}
}

// recordedStreamFor finds the recorded DriverList of a reference session
// from its info.json api_path (F1 host first, then the mirror).
func recordedStreamFor(t *testing.T, infoPath string) (string, bool) {
	t.Helper()
	b, err := os.ReadFile(infoPath)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		APIPath string `json:"api_path"`
	}
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatalf("%s: %v", infoPath, err)
	}
	for _, host := range []string{"livetiming.formula1.com", "livetiming-mirror.fastf1.dev"} {
		p := filepath.Join(recordedDir, host, info.APIPath, "DriverList.jsonStream")
		if _, err := os.Stat(p); err == nil {
			return p, true
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	return "", false
}

// readCSV reads a CSV file with a header into one map per row.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}
