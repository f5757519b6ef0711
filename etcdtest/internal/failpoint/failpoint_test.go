package failpoint

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseListReadsGofailsListing(t *testing.T) {
	got, err := ParseList("afterCommit=\nraftAfterSave=panic\nbeforeCommit=1*sleep(100)\nx=return(\"a=b\")\n")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"afterCommit": "", "raftAfterSave": "panic", "beforeCommit": "1*sleep(100)", "x": `return("a=b")`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseList = %v; want %v", got, want)
	}
	if got, err := ParseList("\n"); err != nil || len(got) != 0 {
		t.Errorf("an empty listing: %v, %v", got, err)
	}
	for _, bad := range []string{"raftAfterSave\n", "=panic\n", "a b=panic\n", "<html>404</html>"} {
		if _, err := ParseList(bad); err == nil || !strings.Contains(err.Error(), "not name=action") {
			t.Errorf("ParseList(%q): %v; want an error naming the line", bad, err)
		}
	}
}

// The actions gofail takes, and those it refuses with its own message.
func TestCheckActionFollowsGofailsGrammar(t *testing.T) {
	for _, ok := range []string{"panic", "off", "1*panic", "sleep(100)", `sleep("1s")`, "50.0%return(true)", "return", "return()",
		"return(-5)", `return("a=b")`, "1*sleep(200)->panic", "2*off->panic", "print", "panic->", "0.5%panic", "1.%panic"} {
		if err := CheckAction(ok); err != nil {
			t.Errorf("CheckAction(%q) = %v; gofail takes it", ok, err)
		}
	}
	for _, tc := range []struct{ action, want string }{
		{"panik", `failpoint: could not parse terms: failed to parse "panik" past "panik"`},
		{"panicx", `failed to parse "panicx" past "x"`},
		{"panic;sleep(1)", `failed to parse "panic;sleep(1)" past ";sleep(1)", expected "->"`},
		{"sleep(100", `failed to parse "sleep(100" past "(100"`},
		{"1*", `the term "1*" has no action`},
		{"50%return(true)", `past "50%return(true)"`},           // gofail reads 50 as an int, which wants "*": write 50.0%
		{"1%panic", `failed to parse "1%panic" past "1%panic"`}, // an int wants "*", a float "%"
		{"1.5*panic", `failed to parse "1.5*panic" past "1.5*panic"`},
		{`return("abc"`, `past "(\"abc\""`},
		{"", "the action is empty"},
		{"break", "break stops the member for a debugger"},
		{"PANIC", `past "PANIC"`},
	} {
		err := CheckAction(tc.action)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckAction(%q) = %v; want an error containing %q", tc.action, err, tc.want)
		}
	}
}

func TestCheckNameRefusesWhatIsNoFailpoint(t *testing.T) {
	for _, ok := range []string{"raftAfterSave", "_x", "defragBeforeRename", "a1"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "raft/AfterSave", "1a", "raft AfterSave", "failpoints", "Failpoints", "a?b"} {
		if err := CheckName(bad); err == nil {
			t.Errorf("CheckName(%q) accepted it", bad)
		}
	}
}

func TestClosestNamesWhatWasMeant(t *testing.T) {
	names := []string{"raftAfterSave", "raftBeforeSave", "raftAfterSaveSnap", "raftBeforeSaveSnap", "beforeCommit", "afterCommit", "defragBeforeRename", "walBeforeSync"}
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"raftAftrSave", []string{"raftAfterSave", "raftBeforeSave"}},
		{"raftaftersave", []string{"raftAfterSave", "raftAfterSaveSnap"}},
		{"commit", []string{"afterCommit", "beforeCommit"}},
		{"defrag", []string{"defragBeforeRename"}},
		{"compactBeforeCommitBatch", []string{"beforeCommit"}}, // it contains the name
		{"snapshot", nil},
		{"x", nil},
	} {
		if got := Closest(names, tc.name); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Closest(%q) = %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestAnswerReadsGofailsReplies(t *testing.T) {
	for _, tc := range []struct {
		code       int
		body, ok   string
		want       string // "" for no error
		wantUnknwn bool
	}{
		{204, "", "", "", false},
		{400, "fail to set failpoint: failpoint: failpoint does not exist\n", "", `no such failpoint "fp"`, true},
		{400, "failed to delete failpoint failpoint: failpoint is disabled\n", "failpoint is disabled", "", false},
		{400, "failed to delete failpoint failpoint: failpoint is disabled\n", "", "gofail refused fp: 400", false},
		{400, "fail to set failpoint: failpoint: could not parse terms\n", "", "could not parse terms", false},
	} {
		err := answer(tc.code, tc.body, "fp", tc.ok)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%d %q: %v; want no error", tc.code, tc.body, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d %q: %v; want %q", tc.code, tc.body, err, tc.want)
		}
		if got := err != nil && strings.Contains(err.Error(), ErrUnknown.Error()); got != tc.wantUnknwn {
			t.Errorf("%d %q: unknown %v", tc.code, tc.body, got)
		}
	}
}
