//go:build !unix

package sdk

// processAlive cannot probe a pid portably here; the parent pid check
// still applies.
func processAlive(int) bool { return true }
