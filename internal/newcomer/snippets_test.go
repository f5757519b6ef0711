package newcomer

import (
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReadmeSnippetsCompile builds every ```go block of README.md and of the
// pages of docs/ in a module of its own that requires this checkout, and
// vets it.
//
// A block that starts with a package clause is a complete file and is built
// as it is (it must also be gofmt-formatted). Any other block is a fragment:
// it is built inside a function of a package that imports what the snippets
// use and declares the names they assume (cluster, ctx, t, node, ...; see
// fragmentPrelude). The only leniency is for variables a fragment declares
// and does not use, which Go rejects and a snippet showing a return value
// does on purpose. A fragment of declarations (var, func) is built at
// package level instead. A block marked <!-- readme:nocompile <why> --> is
// skipped.
func TestReadmeSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds README snippets in a temp module (-short)")
	}
	m := newTempModule(t)
	m.run("go", "mod", "init", "example.com/readme")
	m.replaceThis()
	for _, mod := range []string{"github.com/onsi/ginkgo/v2", "github.com/onsi/gomega", "go.etcd.io/etcd/client/v3"} {
		m.run("go", "mod", "edit", "-require="+mod+"@"+m.version(mod))
	}

	built := map[string][]string{} // per page, the packages built
	n := 0
	pending := map[string]bool{}
	for _, page := range docPages(t) {
		for _, b := range markdownBlocks(t, page) {
			dir, ok := snippetDir(t, b, pending)
			if !ok {
				continue
			}
			src, err := snippetFile(b, dir)
			if err != nil {
				t.Errorf("%s: %v", b.where(), err)
				continue
			}
			m.write(dir+"/snippet_test.go", src)
			built[page] = append(built[page], dir)
			n++
		}
	}
	if len(built["README.md"]) == 0 {
		t.Fatal("README.md has no go blocks to build")
	}
	for line, fix := range pendingFixes {
		if !pending[fix] {
			t.Errorf("no README block has %q any more: delete it from pendingFixes, so the block is built", line)
		}
	}
	m.run("go", "mod", "tidy")
	// Compile errors point at README.md and docs/ lines (//line directives).
	m.run("go", "vet", "./...")
	t.Logf("built %d go blocks: %v", n, built)
}

// snippetDir returns the package a go block is built in ("docs_faults_line12"),
// or false for a block that is not built: not go, marked readme:nocompile,
// or waiting for a pending fix (noted in pending).
func snippetDir(t *testing.T, b block, pending map[string]bool) (string, bool) {
	t.Helper()
	if b.lang != "go" {
		return "", false
	}
	if fix, ok := pendingFix(b); ok {
		t.Logf("%s: not built until this fix is made: %s", b.where(), fix)
		pending[fix] = true
		return "", false
	}
	if why, ok := b.markerArg("readme:nocompile"); ok {
		if strings.TrimSpace(why) == "" {
			t.Errorf("%s: a readme:nocompile marker says why the block cannot compile", b.where())
		}
		return "", false
	}
	return packageName(b.name, b.line), true
}

// packageName is a Go package name for the block at line of page:
// "line12" for README.md (as the test always named them), else the page's
// path in letters, digits and underscores: "docs_faults_line12".
func packageName(page string, line int) string {
	if page == "README.md" {
		return fmt.Sprintf("line%d", line)
	}
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.ToLower(strings.TrimSuffix(page, ".md")))
	return fmt.Sprintf("%s_line%d", name, line)
}

// pendingFixes are README lines, outside the sections this package's author
// could edit, that do not compile, each with the fix to make. A block holding
// one is not built; once the line is gone the test says to delete the entry.
var pendingFixes = map[string]string{}

func pendingFix(b block) (string, bool) {
	for line, fix := range pendingFixes {
		if strings.Contains(b.text, line) {
			return fix, true
		}
	}
	return "", false
}

// snippetFile returns the Go file that builds block b in package dir.
func snippetFile(b block, pkg string) (string, error) {
	if isCompleteFile(b.text) {
		formatted, err := format.Source([]byte(b.text))
		if err != nil {
			return "", err
		}
		if string(formatted) != b.text {
			return "", fmt.Errorf("the file is not gofmt-formatted")
		}
		return fmt.Sprintf("//line %s:%d\n%s", b.file, b.line, b.text), nil
	}
	return wrapFragment(b, pkg)
}

var packageClause = regexp.MustCompile(`(?m)^package \w+`)

// isCompleteFile reports whether a block is a whole Go file: a package clause
// before any code (comments may come first).
func isCompleteFile(src string) bool {
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		return packageClause.MatchString(line)
	}
	return false
}

// fragmentImports are the packages a fragment may use, each under the name a
// README snippet uses for it.
var fragmentImports = []struct{ name, path, use string }{
	{"", "context", "context.Background"},
	{"", "testing", "testing.Short"},
	{"", "time", "time.Second"},
	{".", "github.com/onsi/ginkgo/v2", "Describe"},
	{".", "github.com/onsi/gomega", "Expect"},
	{"clientv3", "go.etcd.io/etcd/client/v3", "clientv3.New"},
	{"", modulePath + "/etcdtest", "etcdtest.Start"},
	{"", modulePath + "/locker", "locker.New"},
	{"", modulePath + "/matchers", "matchers.BeElected"},
	{"", modulePath + "/chaos", "chaos.Record"},
}

// fragmentNames are the names fragments assume, as a suite declares them.
var fragmentNames = []struct{ name, typ string }{
	{"t", "*testing.T"},
	{"ctx", "context.Context"},
	{"cluster", "*etcdtest.Cluster"},
	{"member", "*etcdtest.Member"},
	{"leader", "*etcdtest.Member"},
	{"link", "*etcdtest.ClientLink"},
	{"cli", "*clientv3.Client"},
	{"node", "*locker.Node"},
	{"follower", "*locker.Node"},
	{"nodes", "[]*locker.Node"},
}

// fragmentPrelude is the package a fragment is built in, minus the names the
// fragment declares itself.
func fragmentPrelude(pkg string, declared []string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "package %s\n\nimport (\n", pkg)
	for _, imp := range fragmentImports {
		fmt.Fprintf(&s, "\t%s %q\n", imp.name, imp.path)
	}
	s.WriteString(")\n\n// Every import is used, whatever the fragment uses.\nvar (\n")
	for _, imp := range fragmentImports {
		fmt.Fprintf(&s, "\t_ = %s\n", imp.use)
	}
	s.WriteString(")\n\n// The names a fragment assumes.\nvar (\n")
	for _, n := range fragmentNames {
		if !slices.Contains(declared, n.name) {
			fmt.Fprintf(&s, "\t%s %s\n", n.name, n.typ)
		}
	}
	s.WriteString(")\n\n")
	return s.String()
}

// wrapFragment builds a fragment at package level if it is a list of
// declarations, else as the body of a function, followed by `_ = v` for each
// variable it declares at the function's top level.
func wrapFragment(b block, pkg string) (string, error) {
	if f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+b.text, 0); err == nil {
		var declared []string
		for _, d := range f.Decls {
			declared = append(declared, declNames(d)...)
		}
		return fmt.Sprintf("%s//line %s:%d\n%s", fragmentPrelude(pkg, declared), b.file, b.line, b.text), nil
	}
	body := "func _() {\n" + b.text + "}\n"
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+body, 0)
	if err != nil {
		return "", fmt.Errorf("neither a Go file, declarations, nor statements: %v", err)
	}
	var uses []string
	for _, st := range f.Decls[0].(*ast.FuncDecl).Body.List {
		for _, name := range stmtNames(st) {
			uses = append(uses, "_ = "+name)
		}
	}
	return fmt.Sprintf("%sfunc _() {\n//line %s:%d\n%s\n\t%s\n}\n",
		fragmentPrelude(pkg, nil), b.file, b.line, b.text, strings.Join(uses, "; ")), nil
}

// declNames returns the names a package-level declaration declares.
func declNames(d ast.Decl) []string {
	var names []string
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil {
			names = append(names, d.Name.Name)
		}
	case *ast.GenDecl:
		for _, spec := range d.Specs {
			switch spec := spec.(type) {
			case *ast.ValueSpec:
				for _, n := range spec.Names {
					names = append(names, n.Name)
				}
			case *ast.TypeSpec:
				names = append(names, spec.Name.Name)
			}
		}
	}
	return names
}

// stmtNames returns the variables a statement declares (x := ..., var x ...).
func stmtNames(st ast.Stmt) []string {
	var names []string
	switch st := st.(type) {
	case *ast.AssignStmt:
		if st.Tok == token.DEFINE {
			for _, e := range st.Lhs {
				if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
					names = append(names, id.Name)
				}
			}
		}
	case *ast.DeclStmt:
		for _, n := range declNames(st.Decl) {
			if n != "_" {
				names = append(names, n)
			}
		}
	}
	return names
}

func TestWrapFragment(t *testing.T) {
	stmts := block{text: "ca, cert := cluster.CAFile(), cluster.CertFile()\nvar user string\n_ = user\n", line: 7, file: "/r/README.md"}
	src, err := wrapFragment(stmts, "line7")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"package line7\n", "\tcluster *etcdtest.Cluster\n", "func _() {\n//line /r/README.md:7\nca, cert :=", "\t_ = ca; _ = cert; _ = user\n}\n"} {
		if !strings.Contains(src, want) {
			t.Errorf("statements: %q not in\n%s", want, src)
		}
	}

	decls := block{text: "var cluster = etcdtest.BeforeSuite(etcdtest.Config{})\n", line: 9, file: "/r/README.md"}
	src, err = wrapFragment(decls, "line9")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(src, "\tcluster *etcdtest.Cluster\n") || !strings.Contains(src, "//line /r/README.md:9\nvar cluster =") {
		t.Errorf("declarations: want the fragment at package level and no prelude cluster, got\n%s", src)
	}

	if _, err := wrapFragment(block{text: "a, b, c // an expression list\n"}, "p"); err == nil {
		t.Error("an expression list: want an error")
	}
}

func TestPackageName(t *testing.T) {
	for _, tc := range []struct {
		page string
		line int
		want string
	}{
		{"README.md", 12, "line12"},
		{"docs/faults.md", 30, "docs_faults_line30"},
		{"docs/Elections-and-chaos.md", 7, "docs_elections_and_chaos_line7"},
	} {
		if got := packageName(tc.page, tc.line); got != tc.want {
			t.Errorf("packageName(%q, %d) = %q, want %q", tc.page, tc.line, got, tc.want)
		}
	}
}
