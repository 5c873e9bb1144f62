// Command karbor-protection-ctl is an operator's client of the protection
// service: it calls karbor-protection over RabbitMQ exactly as karbor-api
// does (so it works with the Go and the Python service alike) to list and
// show providers, protectables and checkpoints, protect a plan, restore,
// verify, copy, delete and reset checkpoints, wait for them, and draw the
// flow an operation would run. Run it with --help.
package main

import (
	"os"

	"github.com/gokarbor/karbor-protection/cmd/karbor-protection-ctl/internal/ctl"
)

func main() {
	os.Exit(ctl.Main(os.Args[1:], ctl.OSEnv()))
}
