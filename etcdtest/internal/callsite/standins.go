package callsite

// Outer and GoOuter stand in for toolkit functions in this package's tests:
// they are non-test code of the module, as etcdtest's methods are.

// Outer returns the site of its own call.
func Outer() Site { return inner() }

func inner() Site { return Find() }

// GoOuter sends the site Find sees on the goroutine it runs on.
func GoOuter(ch chan<- Site) { ch <- inner() }

// NoteOuter notes its own call in r.
func NoteOuter(r *Record, inForce bool) { r.Note(inForce) }
