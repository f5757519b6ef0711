package etcdtest

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// A spare is handed only to an equal config: every field of Config but
// Spare takes part, including fields added after this test was written.
func TestSpareKeyTellsEveryFieldApart(t *testing.T) {
	bin := etcdBinary{Path: "/bin/etcd"}
	base := Config{Size: 3, Spare: true}
	key := func(cfg Config) string {
		t.Helper()
		k, ok := spareKey(cfg, bin, []etcdBinary{bin, bin, bin})
		if !ok {
			t.Fatalf("spareKey(%+v): not eligible", cfg)
		}
		return k
	}
	k0 := key(base)
	if again := key(Config{Size: 3, Spare: true}); again != k0 {
		t.Fatalf("equal configs get different keys:\n%s\n%s", k0, again)
	}
	if noSpare := key(Config{Size: 3}); noSpare != k0 {
		t.Errorf("Spare itself changes the key")
	}
	if k, _ := spareKey(base, bin, []etcdBinary{bin, {Path: "/other/etcd"}, bin}); k == k0 {
		t.Errorf("a member on another binary gets the same key")
	}
	if _, ok := spareKey(Config{LogOutput: &bytes.Buffer{}}, bin, nil); ok {
		t.Errorf("a config with a LogOutput may have a spare; want none")
	}
	typ := reflect.TypeOf(Config{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		switch f.Name {
		case "Spare", "LogOutput", "Binary", "Version", "MemberVersions":
			continue // not part of the key itself, or stands resolved in bins
		}
		cfg := base
		v := reflect.ValueOf(&cfg).Elem().Field(i)
		switch v.Kind() {
		case reflect.Int, reflect.Int64:
			if v.Type() == reflect.TypeOf(time.Duration(0)) {
				v.SetInt(int64(7 * time.Millisecond))
			} else {
				v.SetInt(7)
			}
		case reflect.String:
			v.SetString("x")
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Slice:
			v.Set(reflect.ValueOf([]string{"--x"}))
		default:
			t.Fatalf("Config.%s is a %s: teach this test (and spareKey) how it tells two values apart", f.Name, v.Kind())
		}
		if key(cfg) == k0 {
			t.Errorf("Config.%s does not change the spare key", f.Name)
		}
	}
}
