package etcdtest

// SpareCount is the number of warm spares, booting or ready.
func SpareCount() int { return spares.Count() }
