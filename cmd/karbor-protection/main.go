// Command karbor-protection is OpenStack karbor's protection service:
// a drop-in replacement for the Python karbor-protection, serving karbor-api
// over RabbitMQ (see README.md).
//
//	karbor-protection [--config-file PATH]... [--config-dir DIR]... [--debug]
//	                  [--log-file PATH] [--log-dir DIR] [--version]
package main

import (
	"os"

	"github.com/gokarbor/karbor-protection/cmd/karbor-protection/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr))
}
