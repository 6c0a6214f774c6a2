// Package fuzzdeadline gives each input of a fuzz target a deadline that
// fails the input with a message and every goroutine's stack. Without it, a
// seed-corpus run (`go test`) that hangs waits for -timeout (10 min); a
// fuzzing worker gives up only after 10 s, without saying where it hung;
// and a hang shortly before -fuzztime expires ends the run with the same
// "context deadline exceeded" as a clean run sometimes does
// (golang/go#75804), no input written.
package fuzzdeadline
