// Package bustest holds helpers for tests of code built on package bus: a
// Recorder whose handler keeps every value it is given, a Gate that holds
// handlers until released (to fill queues deliberately), and waits on stage
// counters bounded by a deadline. It owns no global state; every helper is
// safe for concurrent use and reports failures through testing.TB.
//
// Deadlines here are generous upper bounds that only turn a hang into a
// failure; tests must not depend on them for timing.
package bustest
