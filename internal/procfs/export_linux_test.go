package procfs

// StateOf is stateOf, for the parsing specs.
var StateOf = stateOf
