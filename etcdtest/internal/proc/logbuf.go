package proc

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// A LogBuffer keeps the last limit bytes written to it and copies complete
// lines, prefixed, to an optional sink: a member's stdout and stderr, kept
// for the error that reports its failure and copied to Config.LogOutput.
// It is safe for concurrent use.
type LogBuffer struct {
	mu      sync.Mutex
	buf     []byte
	limit   int
	dropped bool
	sink    io.Writer
	prefix  []byte
	partial []byte // an incomplete line waiting for its end, for the sink
}

// NewLogBuffer returns a LogBuffer that keeps limit bytes and copies each
// complete line to sink (when not nil) with prefix in front.
func NewLogBuffer(limit int, sink io.Writer, prefix string) *LogBuffer {
	return &LogBuffer{limit: limit, sink: sink, prefix: []byte(prefix)}
}

// Write keeps p and copies the lines it completes to the sink. It never
// fails: a failing sink must not stop the member writing.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 2*b.limit { // trim rarely, so writes stay amortised O(len(p))
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.limit:]...)
		b.dropped = true
	}
	if b.sink != nil {
		b.partial = append(b.partial, p...)
		for {
			i := bytes.IndexByte(b.partial, '\n')
			if i < 0 {
				break
			}
			line := append(append([]byte{}, b.prefix...), b.partial[:i+1]...)
			b.sink.Write(line) // a failing sink must not stop the member
			b.partial = b.partial[i+1:]
		}
	}
	return len(p), nil
}

// String returns the kept log, at most limit bytes, starting at a line boundary.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf
	if len(s) > b.limit {
		s = s[len(s)-b.limit:]
		b.dropped = true
	}
	if b.dropped {
		if i := bytes.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return string(s)
}

// Tail returns at most the last n bytes of s, starting at a line boundary
// where it can: the end of a log or a command's output, for an error.
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	return s
}
