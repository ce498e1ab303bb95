package trackstatus

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/paddock-f1/paddock/pkg/kind/kindtest"
)

// TestConformance: every reference session's track_status.csv, from the recorded
// feed, cell for cell and byte for byte.
func TestConformance(t *testing.T) {
	t.Parallel()
	kindtest.FeedConformance(t, "track_status.csv", Feed, func(body []byte) ([]byte, error) {
		rows, err := Parse(body)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		err = WriteCSV(&b, rows)
		return b.Bytes(), err
	})
}

// TestRecorded: every recorded TrackStatus parses, with or without a
// reference, into changes that each have Status or Message.
func TestRecorded(t *testing.T) {
	t.Parallel()
	kindtest.EveryRecorded(t, Feed, func(body []byte) error {
		rows, err := Parse(body)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return fmt.Errorf("no changes")
		}
		for i, row := range rows {
			if row.Status == "" || row.Message == "" {
				return fmt.Errorf("change %d lacks Status or Message: %+v", i+1, row)
			}
		}
		return nil
	})
}
