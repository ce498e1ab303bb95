package racecontrol

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/paddock-f1/paddock/pkg/kind/kindtest"
)

// TestConformance: every reference session's race_control_messages.csv, from the recorded
// feed, cell for cell and byte for byte.
func TestConformance(t *testing.T) {
	t.Parallel()
	kindtest.FeedConformance(t, "race_control_messages.csv", Feed, func(body []byte) ([]byte, error) {
		rows, err := Parse(body)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		err = WriteCSV(&b, rows)
		return b.Bytes(), err
	})
}

// TestRecorded: every recorded RaceControlMessages parses, with or without a
// reference, into messages that each have Time, Category or Message.
func TestRecorded(t *testing.T) {
	t.Parallel()
	kindtest.EveryRecorded(t, Feed, func(body []byte) error {
		rows, err := Parse(body)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return fmt.Errorf("no messages")
		}
		for i, row := range rows {
			if row.Time.IsZero() || row.Category == nil || row.Message == nil {
				return fmt.Errorf("message %d lacks Time, Category or Message: %+v", i+1, row)
			}
		}
		return nil
	})
}
