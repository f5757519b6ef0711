package failpoint

import (
	"errors"
	"strings"
	"testing"
)

// What the toolkit armed is what the log and WaitCrash's error name; a new
// run starts with nothing armed.
func TestMemberKeepsWhatWasArmedForItsLog(t *testing.T) {
	var log strings.Builder
	m := &Member{Name: "node1", Port: 23790, Log: &log}
	if got := m.Armed(); got != "none" {
		t.Errorf("fresh member: armed %q", got)
	}
	m.armed.Set("raftAfterSave", "panic")
	m.armed.Set("beforeCommit", "sleep(100)")
	if got := m.Armed(); got != "beforeCommit=sleep(100), raftAfterSave=panic" {
		t.Errorf("armed %q", got)
	}
	m.NoteExit(errors.New("exit status 2"))
	if want := "--- etcdtest: node1 exited by itself (exit status 2); failpoints armed: beforeCommit=sleep(100), raftAfterSave=panic ---\n"; log.String() != want {
		t.Errorf("log %q; want %q", log.String(), want)
	}
	m.armed.Clear("beforeCommit")
	if got := m.Armed(); got != "raftAfterSave=panic" {
		t.Errorf("after Clear: %q", got)
	}
	if env := m.Env(); len(env) != 1 || env[0] != "GOFAIL_HTTP=127.0.0.1:23790" {
		t.Errorf("Env = %q", env)
	}
	if got := m.Armed(); got != "none" {
		t.Errorf("a new run has %q armed", got)
	}
}

func TestHintNamesTheClosestOrAll(t *testing.T) {
	fps := map[string]string{"raftAfterSave": "", "raftBeforeSave": "", "beforeCommit": ""}
	if got := Hint(fps, "raftAftrSave"); got != "the closest are raftAfterSave, raftBeforeSave" {
		t.Errorf("Hint = %q", got)
	}
	if got := Hint(fps, "zzz"); got != "it has beforeCommit, raftAfterSave, raftBeforeSave" {
		t.Errorf("Hint = %q", got)
	}
}
