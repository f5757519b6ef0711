package procfs

// StateOf is stateOf, for the parsing specs.
var StateOf = stateOf

// AliveByPs is aliveByPs, Alive where there is no /proc.
var AliveByPs = aliveByPs
