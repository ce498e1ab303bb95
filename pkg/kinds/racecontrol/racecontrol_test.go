package racecontrol

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// TestParse checks the row semantics on small bodies through the CSV they
// give (data lines only), which shows every field and its nil-ness.
func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		wantCSV string
	}{
		{
			name: "list in the first line, index-keyed object later",
			body: "\xEF\xBB\xBF00:01:10.485" + `{"Messages":[{"Utc":"2018-04-29T12:07:10","Lap":1,"Category":"Drs","Status":"DISABLED","Message":"DRS DISABLED"}]}` + "\r\n" +
				"00:08:08.039" + `{"Messages":{"1":{"Utc":"2018-04-29T12:14:08","Lap":1,"Category":"Flag","Flag":"YELLOW","Scope":"Sector","Sector":2,"Message":"YELLOW IN TRACK SECTOR 2"}}}` + "\r\n",
			wantCSV: "2018-04-29 12:07:10,Drs,DRS DISABLED,DISABLED,,,,,1\n" +
				"2018-04-29 12:14:08,Flag,YELLOW IN TRACK SECTOR 2,,YELLOW,Sector,2.0,,1\n",
		},
		{
			name: "object values keep the order sent, a repeated key its first place and last value",
			body: "00:00:01.000" + `{"Messages":{"10":{"Utc":"2024-01-01T10:00:10","Message":"A"},"9":{"Utc":"2024-01-01T10:00:09","Message":"B"},"10":{"Utc":"2024-01-01T10:00:11","Message":"C"}}}` + "\r\n",
			wantCSV: "2024-01-01 10:00:11,,C,,,,,,\n" +
				"2024-01-01 10:00:09,,B,,,,,,\n",
		},
		{
			name:    "several messages in one line, unknown fields dropped",
			body:    "00:00:01.000" + `{"Messages":[{"Utc":"2024-01-01T10:00:00","Category":"SafetyCar","Mode":"SAFETY CAR","Status":"DEPLOYED","Message":"SC"},{"Utc":"2024-01-01T10:00:01","Category":"CarEvent","RacingNumber":"44","Scope":"Driver","Message":"CAR 44"}]}` + "\r\n",
			wantCSV: "2024-01-01 10:00:00,SafetyCar,SC,DEPLOYED,,,,,\n2024-01-01 10:00:01,CarEvent,CAR 44,,,Driver,,44,\n",
		},
		{
			name:    "every int present: int columns",
			body:    "00:00:01.000" + `{"Messages":[{"Utc":"2024-01-01T10:00:00","Sector":8,"Lap":3},{"Utc":"2024-01-01T10:00:01","Sector":"9","Lap":4}]}` + "\r\n",
			wantCSV: "2024-01-01 10:00:00,,,,,,8,,3\n2024-01-01 10:00:01,,,,,,9,,4\n",
		},
		{
			name:    "python int(): strings with spaces, signs and underscores; truncated floats; bools; rejected strings are empty",
			body:    "00:00:01.000" + `{"Messages":[{"Utc":"2024-01-01T10:00:00","Sector":" +1_2 ","Lap":8.9},{"Utc":"2024-01-01T10:00:01","Sector":true,"Lap":-0.5},{"Utc":"2024-01-01T10:00:02","Sector":"8.0","Lap":"x"}]}` + "\r\n",
			wantCSV: "2024-01-01 10:00:00,,,,,,12.0,,8.0\n2024-01-01 10:00:01,,,,,,1.0,,0.0\n2024-01-01 10:00:02,,,,,,,,\n",
		},
		{
			name:    "python str(): numbers, bools and null",
			body:    "00:00:01.000" + `{"Messages":[{"Utc":"2024-01-01T10:00:00","RacingNumber":44,"Category":null,"Flag":true,"Scope":1E2,"Status":-0,"Message":""}]}` + "\r\n",
			wantCSV: "2024-01-01 10:00:00,None,,0,True,100.0,,44,\n",
		},
		{
			name:    "text with comma, quote or line break is quoted",
			body:    "00:00:01.000" + `{"Messages":[{"Utc":"2024-01-01T10:00:00","Message":"CARS 2, 9 \"NOTED\"\nX"}]}` + "\r\n",
			wantCSV: "2024-01-01 10:00:00,,\"CARS 2, 9 \"\"NOTED\"\"\nX\",,,,,,\n",
		},
		{
			name: "one fraction gives the whole column milliseconds; bad Utc is empty",
			body: "00:00:01.000" + `{"Messages":[{"Utc":"2024-01-01T10:00:00Z"},{"Utc":"2024-01-01T10:00:00.5"},{"Utc":"2024-02-30T10:00:00"},{"Utc":null},{"Utc":""},{"Utc":"2024-01-01 10:00:00"}]}` + "\r\n",
			wantCSV: "2024-01-01 10:00:00.000,,,,,,,,\n2024-01-01 10:00:00.500,,,,,,,,\n" +
				",,,,,,,,\n,,,,,,,,\n,,,,,,,,\n,,,,,,,,\n",
		},
		{
			name:    "fractions beyond microseconds are cut",
			body:    "00:00:01.000" + `{"Messages":[{"Utc":"2024-01-01T10:00:00.1234567Z"},{"Utc":"2024-01-01T10:00:01"}]}` + "\r\n",
			wantCSV: "2024-01-01 10:00:00.123456,,,,,,,,\n2024-01-01 10:00:01.000000,,,,,,,,\n",
		},
		{
			name:    "midnight only: date only",
			body:    "00:00:01.000" + `{"Messages":[{"Utc":"2024-01-01T00:00:00"},{"Utc":"2024-01-02T00:00:00"}]}` + "\r\n",
			wantCSV: "2024-01-01,,,,,,,,\n2024-01-02,,,,,,,,\n",
		},
		{
			name:    "empty Messages give no rows",
			body:    "00:00:01.000" + `{"Messages":[]}` + "\r\n00:00:02.000" + `{"Messages":{}}` + "\r\n",
			wantCSV: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var buf bytes.Buffer
			if err := WriteCSV(&buf, ms); err != nil {
				t.Fatal(err)
			}
			if want := CSVHeader + "\n" + tt.wantCSV; buf.String() != want {
				t.Errorf("WriteCSV =\n%s\nwant\n%s", buf.String(), want)
			}
		})
	}
}

// TestParseFields checks the typed fields of one message, including nil for
// what was not sent.
func TestParseFields(t *testing.T) {
	t.Parallel()
	body := "00:00:01.000" + `{"Messages":[{"Utc":"2024-04-19T07:44:15.25Z","Category":"Flag","Flag":"YELLOW","Scope":"Sector","Sector":8,"Message":"YELLOW IN TRACK SECTOR 8"}]}` + "\r\n"
	ms, err := Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 {
		t.Fatalf("%d messages, want 1", len(ms))
	}
	m := ms[0]
	if want := time.Date(2024, 4, 19, 7, 44, 15, 250_000_000, time.UTC); !m.Time.Equal(want) || m.Time.Location() != time.UTC {
		t.Errorf("Time = %v, want %v", m.Time, want)
	}
	if m.Category == nil || *m.Category != "Flag" || m.Flag == nil || *m.Flag != "YELLOW" ||
		m.Scope == nil || *m.Scope != "Sector" || m.Sector == nil || *m.Sector != 8 {
		t.Errorf("fields = %+v", m)
	}
	if m.Status != nil || m.RacingNumber != nil || m.Lap != nil {
		t.Errorf("unsent fields not nil: %+v", m)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	ok := "00:00:01.000" + `{"Messages":[{"Utc":"2024-01-01T10:00:00"}]}` + "\r\n"
	tests := []struct {
		name       string
		body       string
		formatErr  bool // wraps *livetiming.FormatError
		wantInText []string
	}{
		{name: "empty body", body: "", formatErr: true, wantInText: []string{"empty body"}},
		{name: "blank lines only", body: "\xEF\xBB\xBF\r\n\r\n", formatErr: true, wantInText: []string{"no lines"}},
		{name: "undecodable line", body: ok + "00:00:02.000{\"Messages\":oops}\r\n" + ok, formatErr: true,
			wantInText: []string{Feed, "line 2: ", "not valid JSON"}},
		{name: "truncated last line", body: ok + ok + `00:00:03.000{"Messages":[{"Utc":"2024`, formatErr: true,
			wantInText: []string{Feed, "line 3: ", "truncated"}},
		{name: "bad offset", body: ok + "0:00:02.000{}\r\n", formatErr: true, wantInText: []string{"line 2: "}},
		{name: "payload not an object", body: ok + "00:00:02.000[1]\r\n", wantInText: []string{Feed, "record 2", "00:00:02.000", "not a JSON object"}},
		{name: "no Messages", body: ok + "00:00:02.000{}\r\n", wantInText: []string{"record 2", `no "Messages"`}},
		{name: "Messages a string", body: `00:00:02.000{"Messages":"x"}`, wantInText: []string{"neither a list nor an object"}},
		{name: "message not an object", body: `00:00:02.000{"Messages":{"1":null}}`, wantInText: []string{"message 1 is not a JSON object"}},
		{name: "no Utc", body: `00:00:02.000{"Messages":[{"Utc":"2024-01-01T10:00:00"},{"Message":"x"}]}`, wantInText: []string{"message 2", `no "Utc"`}},
		{name: "null Sector", body: `00:00:02.000{"Messages":[{"Utc":"x","Sector":null}]}`, wantInText: []string{"Sector", "null"}},
		{name: "infinite Lap", body: `00:00:02.000{"Messages":[{"Utc":"x","Lap":1e400}]}`, wantInText: []string{"Lap", "out of range"}},
		{name: "Lap beyond int64", body: `00:00:02.000{"Messages":[{"Utc":"x","Lap":"99999999999999999999"}]}`, wantInText: []string{"Lap", "out of range"}},
		{name: "object in a text field", body: `00:00:02.000{"Messages":[{"Utc":"x","Message":{"a":1}}]}`, wantInText: []string{"Message", "object or array"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Parse([]byte(tt.body))
			if err == nil || ms != nil {
				t.Fatalf("Parse = %v, %v; want an error", ms, err)
			}
			var fe *livetiming.FormatError
			if errors.As(err, &fe) != tt.formatErr {
				t.Errorf("error %v: wraps *livetiming.FormatError = %v, want %v", err, !tt.formatErr, tt.formatErr)
			}
			if !strings.HasPrefix(err.Error(), "racecontrol: ") {
				t.Errorf("error lacks context: %v", err)
			}
			for _, w := range tt.wantInText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteCSVError(t *testing.T) {
	t.Parallel()
	err := WriteCSV(failingWriter{}, []Message{{Time: time.Now()}})
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.HasPrefix(err.Error(), "racecontrol: ") {
		t.Errorf("WriteCSV = %v, want a wrapped write error", err)
	}
}

// TestParseUTC checks the emulation of FastF1's to_datetime on the Utc
// forms it accepts and rejects.
func TestParseUTC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string // JSON value
		want string // RFC 3339 in UTC, "" for the zero Time
	}{
		{`"2019-09-07T13:00:00"`, "2019-09-07T13:00:00Z"},
		{`"2019-09-07T13:00:00Z"`, "2019-09-07T13:00:00Z"},
		{`"Z2019-09-07T13:00:00ZZ"`, "2019-09-07T13:00:00Z"},
		{`"2019-09-07T13:00:00.1"`, "2019-09-07T13:00:00.1Z"},
		{`"2019-09-07T13:00:00."`, "2019-09-07T13:00:00Z"},
		{`"2019-09-07T13:00:00.0619797Z"`, "2019-09-07T13:00:00.061979Z"},
		{`"2019-9-7T3:0:0"`, "2019-09-07T03:00:00Z"},
		{`"2020-02-29T00:00:00"`, "2020-02-29T00:00:00Z"},
		{`"2019-02-29T00:00:00"`, ""},
		{`"2019-09-07T24:00:00"`, ""},
		{`"2019-09-07T13:00:60"`, ""},
		{`"2019-09-07T13:00:00.1.2"`, ""},
		{`"2019-09-07T13:00:00+02:00"`, ""},
		{`"2019-09-07 13:00:00"`, ""},
		{`"2019-09-07"`, ""},
		{`"0000-01-01T00:00:00"`, ""},
		{`""`, ""},
		{`null`, ""},
		{`1567861200`, ""},
	}
	for _, tt := range tests {
		got := parseUTC([]byte(tt.in))
		s := ""
		if !got.IsZero() {
			s = got.Format(time.RFC3339Nano)
		}
		if s != tt.want {
			t.Errorf("parseUTC(%s) = %q, want %q", tt.in, s, tt.want)
		}
	}
}

// TestPyInt checks the emulation of Python's int() on strings.
func TestPyInt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   int64
		ok     bool
		tooBig bool
	}{
		{"8", 8, true, false},
		{" -12 ", -12, true, false},
		{"+1_000", 1000, true, false},
		{"007", 7, true, false},
		{"1__0", 0, false, false},
		{"_1", 0, false, false},
		{"1_", 0, false, false},
		{"--1", 0, false, false},
		{"-", 0, false, false},
		{"", 0, false, false},
		{"8.0", 0, false, false},
		{"0x10", 0, false, false},
		{"99999999999999999999", 0, false, true},
	}
	for _, tt := range tests {
		n, ok, err := pyInt(tt.in)
		if n != tt.want || ok != tt.ok || (err != nil) != tt.tooBig {
			t.Errorf("pyInt(%q) = %d, %v, %v; want %d, %v, error %v", tt.in, n, ok, err, tt.want, tt.ok, tt.tooBig)
		}
	}
}
