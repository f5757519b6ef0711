package proc

import (
	"errors"
	"strings"
	"testing"
)

func TestLogBufferKeepsTheTailFromALineBoundary(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limit  int
		writes []string
		want   string
	}{
		{"under the limit: everything", 100, []string{"one\n", "two\n"}, "one\ntwo\n"},
		{"a partial line is kept", 100, []string{"one\ntw"}, "one\ntw"},
		{"over the limit: the last lines whole", 8, []string{"first\n", "second\n", "third\n"}, "third\n"},
		{"trimmed in one big write", 10, []string{strings.Repeat("x", 30) + "\nlast\n"}, "last\n"},
		{"no line boundary in the tail: the tail as is", 4, []string{"abcdefghij"}, "ghij"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewLogBuffer(tc.limit, nil, "")
			for _, w := range tc.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if got := b.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
			if got := b.String(); len(got) > tc.limit {
				t.Fatalf("String() holds %d bytes, over the limit %d", len(got), tc.limit)
			}
		})
	}
}

func TestLogBufferCopiesCompleteLinesPrefixed(t *testing.T) {
	var sink strings.Builder
	b := NewLogBuffer(1<<10, &sink, "[node1] ")
	b.Write([]byte("started\nready"))
	if got := sink.String(); got != "[node1] started\n" {
		t.Fatalf("sink after a line and a half: %q, want only the whole line", got)
	}
	b.Write([]byte(" to serve\n"))
	if got := sink.String(); got != "[node1] started\n[node1] ready to serve\n" {
		t.Fatalf("sink once the line ended: %q", got)
	}
}

type failingWriter struct{ calls int }

func (w *failingWriter) Write([]byte) (int, error) { w.calls++; return 0, errors.New("sink is gone") }

// A member writes its log into the buffer; a sink that fails must not make
// those writes fail, or the member would die of a broken pipe.
func TestLogBufferIgnoresAFailingSink(t *testing.T) {
	sink := &failingWriter{}
	b := NewLogBuffer(1<<10, sink, "")
	if n, err := b.Write([]byte("a\nb\n")); n != 4 || err != nil {
		t.Fatalf("Write with a failing sink = %d, %v; want 4, nil", n, err)
	}
	if sink.calls != 2 {
		t.Fatalf("sink got %d lines, want 2", sink.calls)
	}
	if got := b.String(); got != "a\nb\n" {
		t.Fatalf("String() = %q", got)
	}
}

func TestTailStartsAtALine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"one\ntwo\nthree\n", 9, "three\n"}, // cut mid-line: drop the partial line
		{"one\ntwo\nthree", 5, "three"},     // exactly the last line
		{"abcdefghij", 4, "ghij"},           // no line boundary: the bytes
		{"line one\nx\n", 2, "x\n"},         // a boundary at the start
		{"ends in newline\n", 1, "\n"},      // nothing after the boundary: keep it
	} {
		if got := Tail(tc.in, tc.n); got != tc.want {
			t.Errorf("Tail(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
