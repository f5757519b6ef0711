package failpoint

import (
	"fmt"
	"strings"
)

// CheckAction checks action against gofail's grammar (gofail v0.2.0,
// runtime/terms.go), so a malformed one is refused with gofail's own
// message before it is sent — the endpoint itself answers only "could not
// parse terms" and prints the reason into the member's log:
//
//	<terms> :: <term> ("->" <term>)*
//	<term>  :: <mod>* <act> [ "(" <val> ")" ]
//	<mod>   :: <float> "%" | <int> "*"
//	<act>   :: "off" | "return" | "sleep" | "panic" | "print"
//	<val>   :: <int> | <quoted string> | <bool> | <nothing>
//
// so "panic", "1*panic", "sleep(100)", "sleep(\"1s\")", "50%return(true)",
// "1*sleep(200)->panic", "off". gofail's "break" (stop for a debugger that
// is not there) is refused.
func CheckAction(action string) error {
	desc := action
	for len(desc) != 0 {
		n, act := parseTerm(desc)
		if n == 0 {
			return fmt.Errorf("failpoint: could not parse terms: failed to parse %q past %q", action, desc)
		}
		if act == "" {
			return fmt.Errorf("failpoint action %q: the term %q has no action (gofail accepts it and then crashes the member with a nil function call); use panic, sleep(ms), return(value), print or off", action, desc[:n])
		}
		if act == "break" {
			return fmt.Errorf("failpoint action %q: break stops the member for a debugger; use panic, sleep(ms), return(value), print or off", action)
		}
		desc = desc[n:]
		if len(desc) >= 2 {
			if !strings.HasPrefix(desc, "->") {
				return fmt.Errorf("failpoint: could not parse terms: failed to parse %q past %q, expected \"->\"", action, desc)
			}
			desc = desc[2:]
		}
	}
	if action == "" {
		return fmt.Errorf("failpoint: could not parse terms: the action is empty; use panic, sleep(ms), 1*panic, return(value) or off (ClearFailpoint disarms)")
	}
	return nil
}

// parseTerm returns how many bytes of desc the term at its start takes (0
// if none parses) and its action ("" if it has none).
func parseTerm(desc string) (int, string) {
	mods := parseMods(desc)
	act := ""
	for _, a := range []string{"off", "return", "sleep", "panic", "break", "print"} {
		if strings.HasPrefix(desc[mods:], a) {
			act = a
		}
	}
	return mods + len(act) + parseVal(desc[mods+len(act):]), act
}

// parseMods is the length of the modifiers at desc's start ("50%", "2*"),
// 0 where gofail would give up on them.
func parseMods(desc string) int {
	n := 0
	for {
		s, isFloat := parseNumber(desc[n:])
		if s == 0 {
			return n
		}
		if n+s == len(desc) {
			return 0
		}
		switch next := desc[n+s]; {
		case isFloat && next == '%', !isFloat && next == '*':
			n += s + 1
		default:
			return 0
		}
	}
}

// parseNumber is the length of the int or float at desc's start, and
// whether it is a float ("1.", "1.5").
func parseNumber(desc string) (int, bool) {
	i := 0
	for i < len(desc) && desc[i] >= '0' && desc[i] <= '9' {
		i++
	}
	if i == 0 || i == len(desc) || desc[i] != '.' {
		return i, false
	}
	i++
	for i < len(desc) && desc[i] >= '0' && desc[i] <= '9' {
		i++
	}
	return i, true
}

// parseVal is the length of the parenthesised value at desc's start: 0
// for none, and for one gofail cannot read (what follows must then be
// "->" or nothing).
func parseVal(desc string) int {
	n := 0
	if len(desc) < 2 || desc[0] != '(' {
		return 0
	}
	var s string
	var v int
	var b bool
	if desc[1] == ')' {
		n = 2
	} else if k, err := fmt.Sscanf(desc[1:], "%q", &s); k == 1 && err == nil {
		n = len(s) + 4
	} else if k, err := fmt.Sscanf(desc[1:], "%d", &v); k == 1 && err == nil {
		n = len(fmt.Sprintf("%d", v)) + 2
	} else if k, err := fmt.Sscanf(desc[1:], "%t", &b); k == 1 && err == nil {
		n = len(fmt.Sprintf("%t", b)) + 2
	}
	if n > len(desc) {
		return 0 // gofail would slice past the end: ("abc" without ")"
	}
	return n
}
