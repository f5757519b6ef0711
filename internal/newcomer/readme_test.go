package newcomer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// block is a fenced code block of README.md or of a page of docs/.
type block struct {
	lang   string // the fence's info string: "go", "sh", ...
	text   string // the lines between the fences, each ending in "\n"
	line   int    // the file's line of the block's first line of text
	marker string // the HTML comment on the line before the fence, without "<!--" and "-->"; "" if none
	file   string // the file's absolute path, for //line directives; set by markdownBlocks
	name   string // the file's path in the checkout ("docs/faults.md"), for messages; set by markdownBlocks
}

// where is the block's place for a message: "docs/faults.md:12".
func (b block) where() string { return fmt.Sprintf("%s:%d", b.name, b.line) }

// readmeBlocks returns the fenced blocks of the checkout's README.md.
func readmeBlocks(t *testing.T) []block {
	t.Helper()
	return markdownBlocks(t, "README.md")
}

// markdownBlocks returns the fenced blocks of the checkout's file rel.
func markdownBlocks(t *testing.T, rel string) []block {
	t.Helper()
	path := filepath.Join(checkoutRoot(t), filepath.FromSlash(rel))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parseBlocks(string(data))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	for i := range blocks {
		blocks[i].file, blocks[i].name = path, rel
	}
	return blocks
}

// docPages returns README.md and the pages of docs/, as paths in the
// checkout: the files whose go blocks must compile and whose links must
// resolve.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(checkoutRoot(t), "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"README.md"}
	for _, p := range pages {
		out = append(out, "docs/"+filepath.Base(p))
	}
	return out
}

func parseBlocks(readme string) ([]block, error) {
	var blocks []block
	var cur *block
	prev := "" // the last line before the current one, outside blocks
	for i, line := range strings.Split(readme, "\n") {
		fence, isFence := strings.CutPrefix(line, "```")
		switch {
		case cur == nil && isFence:
			cur = &block{lang: strings.TrimSpace(fence), line: i + 2}
			if c, ok := strings.CutPrefix(strings.TrimSpace(prev), "<!--"); ok {
				if c, ok := strings.CutSuffix(c, "-->"); ok {
					cur.marker = strings.TrimSpace(c)
				}
			}
		case cur != nil && isFence:
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		default:
			prev = line
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("the code block opened at line %d is never closed", cur.line-1)
	}
	return blocks, nil
}

// markerArg returns what follows "key:" in a block's marker.
func (b block) markerArg(key string) (string, bool) {
	return strings.CutPrefix(b.marker, key+":")
}

func TestParseBlocks(t *testing.T) {
	readme := "# title\n\n<!-- newcomer:a_test.go -->\n```go\npackage a\n```\n\ntext\n```sh\ngo test\n\n```\n"
	blocks, err := parseBlocks(readme)
	if err != nil {
		t.Fatal(err)
	}
	want := []block{
		{lang: "go", text: "package a\n", line: 5, marker: "newcomer:a_test.go"},
		{lang: "sh", text: "go test\n\n", line: 10},
	}
	if len(blocks) != len(want) {
		t.Fatalf("got %d blocks %+v, want %+v", len(blocks), blocks, want)
	}
	for i := range want {
		if blocks[i] != want[i] {
			t.Errorf("block %d: got %+v, want %+v", i, blocks[i], want[i])
		}
	}
	if _, err := parseBlocks("```go\npackage a\n"); err == nil || err.Error() != "the code block opened at line 1 is never closed" {
		t.Errorf("unclosed block: got error %v", err)
	}
}
