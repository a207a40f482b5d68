package main

// consoleAll measures the console paths (see consoleBench).
func (b *bench) consoleAll() {
	b.note("console section: not run in this version of the harness")
}
