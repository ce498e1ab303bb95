package livetiming

// BlankLines returns the 1-based numbers of the blank lines of a jsonStream
// body: lines holding nothing but spaces (a leading BOM aside), whether
// they end in a line end or are the body's unterminated last text. They are
// the lines [Decode], [Whole] and a [Scanner] skip, the one tolerated defect
// that drops a line; the empty text after the body's last line end is not a
// line. Nil when there is none.
func BlankLines(body []byte) []int {
	var c BlankCounter
	_, _ = c.Write(body)
	return c.Blank()
}

// BlankCounter finds the blank lines (see [BlankLines]) of a jsonStream body
// written to it in pieces, e.g. through an io.TeeReader beside a Scanner.
// The zero value is ready to use; it is not safe for concurrent use.
type BlankCounter struct {
	lines   int   // lines ended so far
	blank   []int // numbers of the blank ones
	started bool  // the current line has bytes
	content bool  // the current line has a byte that is not a space
	bom     int   // BOM bytes matched at the body's start
	pastBOM bool  // the body's start is behind
}

// Write implements io.Writer; it never fails.
func (c *BlankCounter) Write(p []byte) (int, error) {
	for _, b := range p {
		if !c.pastBOM {
			if c.bom < len(utf8BOM) && b == utf8BOM[c.bom] {
				if c.bom++; c.bom == len(utf8BOM) {
					c.pastBOM = true
				}
				continue
			}
			c.pastBOM = true
			if c.bom > 0 { // a partial BOM is text
				c.started, c.content = true, true
			}
		}
		switch {
		case b == '\n':
			c.lines++
			if !c.content {
				c.blank = append(c.blank, c.lines)
			}
			c.started, c.content = false, false
		case isJSONSpace(b) || b == '\v' || b == '\f':
			c.started = true
		default:
			c.started, c.content = true, true
		}
	}
	return len(p), nil
}

// Blank returns the numbers of the blank lines written so far, counting an
// unterminated last text of spaces as one.
func (c *BlankCounter) Blank() []int {
	out := append([]int(nil), c.blank...)
	if c.started && !c.content {
		out = append(out, c.lines+1)
	}
	return out
}
