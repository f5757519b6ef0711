package newcomer

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// pendingPages are pages the README's feature map links to that other
// branches write, each with who writes it. A link to one does not fail while
// the page is missing; once it exists, the test says to delete its entry.
var pendingPages = map[string]string{}

// TestDocLinks checks that every relative link of README.md and of the pages
// of docs/ names a file or directory of the checkout, and that README.md
// links to every page of docs/: a page moved or renamed, or a page nobody can
// find, fails here.
func TestDocLinks(t *testing.T) {
	root := checkoutRoot(t)
	pages := docPages(t)
	linked := map[string]bool{}
	for _, page := range pages {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(page)))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range relativeLinks(string(data)) {
			target := path.Join(path.Dir(page), l.target)
			if page == "README.md" {
				linked[target] = true
			}
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(target))); err == nil {
				continue
			}
			if who, ok := pendingPages[target]; ok {
				t.Logf("%s:%d: %s is not written yet (%s)", page, l.line, target, who)
				continue
			}
			t.Errorf("%s:%d: the link %q names no file of the checkout (%s)", page, l.line, l.target, target)
		}
	}
	for _, page := range pages[1:] {
		if !linked[page] {
			t.Errorf("README.md does not link to %s: add it to the feature map", page)
		}
	}
	for target, who := range pendingPages {
		if slices.Contains(pages, target) {
			t.Errorf("%s exists now (%s wrote it): delete it from pendingPages, so its links are checked", target, who)
		}
	}
}

// link is a relative link of a markdown page: its target without the
// #fragment, and its line.
type link struct {
	target string
	line   int
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// relativeLinks returns the links of a markdown page that point into the
// repository: not URLs, not fragments of the page itself, not inside code
// blocks or code spans.
func relativeLinks(md string) []link {
	var links []link
	inBlock := false
	for i, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "```") {
			inBlock = !inBlock
			continue
		}
		if inBlock {
			continue
		}
		for _, m := range mdLink.FindAllStringSubmatchIndex(withoutCodeSpans(line), -1) {
			target := line[m[2]:m[3]]
			target, _, _ = strings.Cut(target, "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			links = append(links, link{target: target, line: i + 1})
		}
	}
	return links
}

// withoutCodeSpans blanks out `code spans`, keeping every other byte where
// it was.
func withoutCodeSpans(line string) string {
	b := []byte(line)
	in := false
	for i, c := range b {
		if c == '`' {
			in = !in
			continue
		}
		if in {
			b[i] = ' '
		}
	}
	return string(b)
}

func TestRelativeLinks(t *testing.T) {
	md := "See [faults](docs/faults.md) and [ops](docs/operations.md#membership).\n" +
		"[etcd](https://etcd.io) [here](#numbers) `[not](a-link.md)`\n" +
		"```go\n// [in code](nope.md)\n```\n" +
		"![picture](examples/concurrency/overlap.svg) [up](../README.md)\n"
	got := relativeLinks(md)
	want := []link{{"docs/faults.md", 1}, {"docs/operations.md", 1}, {"examples/concurrency/overlap.svg", 6}, {"../README.md", 6}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
