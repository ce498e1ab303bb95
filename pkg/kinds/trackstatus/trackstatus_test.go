package trackstatus

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/livetiming"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		want    []Change
		wantCSV string // data lines only
	}{
		{
			name: "changes in line order",
			body: "\xEF\xBB\xBF00:00:00.000" + `{"Status":"1","Message":"AllClear"}` + "\r\n" +
				"00:28:15.011" + `{"Status":"2","Message":"Yellow"}` + "\r\n",
			want: []Change{
				{Time: 0, Status: "1", Message: "AllClear"},
				{Time: 28*time.Minute + 15011*time.Millisecond, Status: "2", Message: "Yellow"},
			},
			wantCSV: "0.000,1,AllClear\n1695.011,2,Yellow\n",
		},
		{
			name:    "missing or null fields are empty, not carried over",
			body:    "00:00:01.000" + `{"Status":"4","Message":"SCDeployed"}` + "\r\n00:00:02.000{\"Status\":\"1\"}\r\n00:00:03.000{\"Message\":null}\r\n00:00:04.000{}\r\n",
			wantCSV: "1.000,4,SCDeployed\n2.000,1,\n3.000,,\n4.000,,\n",
		},
		{
			name:    "payloads that are not objects are ignored",
			body:    "00:00:01.000[1]\r\n00:00:02.000\"x\"\r\n00:00:03.000" + `{"Status":"5","Message":"Red"}` + "\r\n",
			want:    []Change{{Time: 3 * time.Second, Status: "5", Message: "Red"}},
			wantCSV: "3.000,5,Red\n",
		},
		{
			name:    "text with a comma or quote is quoted",
			body:    "00:00:01.000" + `{"Status":"2","Message":"Yellow, \"S3\""}` + "\r\n",
			wantCSV: "1.000,2,\"Yellow, \"\"S3\"\"\"\n",
		},
		{
			name:    "no object line: no rows",
			body:    "00:00:01.000[]\r\n",
			want:    []Change{},
			wantCSV: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.want != nil && !equal(got, tt.want) {
				t.Errorf("Parse = %+v, want %+v", got, tt.want)
			}
			var buf bytes.Buffer
			if err := WriteCSV(&buf, got); err != nil {
				t.Fatal(err)
			}
			if want := CSVHeader + "\n" + tt.wantCSV; buf.String() != want {
				t.Errorf("WriteCSV =\n%s\nwant\n%s", buf.String(), want)
			}
		})
	}
}

func equal(a, b []Change) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	ok := "00:00:01.000" + `{"Status":"1","Message":"AllClear"}` + "\r\n"
	tests := []struct {
		name       string
		body       string
		formatErr  bool // wraps *livetiming.FormatError
		wantInText []string
	}{
		{name: "empty body", body: "", formatErr: true, wantInText: []string{"empty body"}},
		{name: "bom only", body: "\xEF\xBB\xBF", formatErr: true, wantInText: []string{"empty body"}},
		{name: "undecodable line", body: ok + "00:00:02.000{\"Status\":2,}\r\n" + ok, formatErr: true,
			wantInText: []string{Feed, "line 2: ", "not valid JSON"}},
		{name: "truncated last line", body: ok + `00:00:02.000{"Status":"2","Mess`, formatErr: true,
			wantInText: []string{Feed, "line 2: ", "truncated"}},
		{name: "html error page", body: "<html>403</html>", formatErr: true, wantInText: []string{"line 1: "}},
		{name: "status not a string", body: ok + "00:00:02.000{\"Status\":2}\r\n",
			wantInText: []string{Feed, "record 2", "00:00:02.000", "Status is 2, want a string"}},
		{name: "message an object", body: `00:00:02.000{"Status":"2","Message":{}}`,
			wantInText: []string{"Message is {}, want a string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.body))
			if err == nil || got != nil {
				t.Fatalf("Parse = %v, %v; want an error", got, err)
			}
			var fe *livetiming.FormatError
			if errors.As(err, &fe) != tt.formatErr {
				t.Errorf("error %v: wraps *livetiming.FormatError = %v, want %v", err, !tt.formatErr, tt.formatErr)
			}
			if !strings.HasPrefix(err.Error(), "trackstatus: ") {
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
	err := WriteCSV(failingWriter{}, []Change{{Status: "1"}})
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.HasPrefix(err.Error(), "trackstatus: ") {
		t.Errorf("WriteCSV = %v, want a wrapped write error", err)
	}
}
