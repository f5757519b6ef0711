package etcdtest

// SpareCount is the number of warm spares, booting or ready.
func SpareCount() int { return spares.count() }

// PretendOS makes Start decide about local clusters as on goos, until the
// returned restore is called.
func PretendOS(goos string) (restore func()) {
	was := localOS
	localOS = goos
	return func() { localOS = was }
}
