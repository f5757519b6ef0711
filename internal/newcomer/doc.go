// Package newcomer keeps the README honest. Its tests do in a temporary module
// what a new user does in their own: TestNewcomerPath follows the README's
// "Use it in your module" section (its commands and suite files, extracted
// from README.md by their markers) and runs the suite under `go tool ginkgo -p`;
// TestReadmeSnippetsCompile compiles every ```go block of README.md and of the
// pages of docs/; TestDocLinks checks that their relative links name files of
// the checkout and that README.md links to every page of docs/.
//
// Both work in a module outside this repository that requires this checkout
// through a replace directive, so they build what a user's module builds.
// Markers in README.md (and, for readme:nocompile, in docs/), each an HTML
// comment on the line before a fence:
//
//	<!-- newcomer:setup -->          commands run first (go mod init, go get)
//	<!-- newcomer:<file> -->         a file of the user's module, written next
//	<!-- newcomer:run -->            commands run last (go mod tidy, go tool ginkgo)
//	<!-- readme:nocompile <why> -->  a go block the snippet test leaves alone
//
// The newcomer path boots etcd clusters and resolves modules, so it runs only
// with ETCDTEST_NEWCOMER=1 (a step of .ci/run); the snippet test runs in
// `go test ./...`. Both are skipped with -short.
package newcomer
