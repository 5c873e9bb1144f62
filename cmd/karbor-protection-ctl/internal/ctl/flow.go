package ctl

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
	_ "github.com/gokarbor/karbor-protection/providers/noop"             // karbor-noop-protection-plugin
	_ "github.com/gokarbor/karbor-protection/providers/openstack/cinder" // the Cinder protection plugins, as the service loads them
	"github.com/gokarbor/karbor-protection/providers/protectables"
	_ "github.com/gokarbor/karbor-protection/providers/protectables/openstack" // the OpenStack types, as the service loads them
)

func flowFlags(fs *flag.FlagSet, c *cmdFlags) {
	fs.StringVar(&c.operation, "operation", "protect", "The operation: protect, restore, verify, delete or copy")
	fs.StringVar(&c.dot, "dot", "-", "Where to write the DOT (-: standard output)")
	fs.StringVar(&c.svg, "svg", "", "Also draw the graph as SVG in this file (needs Graphviz's dot)")
	fs.StringVar(&c.png, "png", "", "Also draw the graph as PNG in this file (needs Graphviz's dot)")
	fs.StringVar(&c.checkpointID, "checkpoint-id", "CHECKPOINT_ID", "The checkpoint named in restore, verify, delete and copy flows")
	fs.StringVar(&c.copyID, "copy-id", "COPY_ID", "The copy checkpoint named in a copy flow")
}

// flowCommand builds the flow the service would run for the operation on
// the plan, from the provider files of provider_config_dir (their plugins,
// not their banks) and the protectable types the service loads, and writes
// it as DOT. Nothing is sent and nothing runs.
func flowCommand(ctx context.Context, s *session, args []string, c *cmdFlags) error {
	op := providers.Op(c.operation)
	switch op {
	case providers.OpProtect, providers.OpRestore, providers.OpVerify, providers.OpDelete, providers.OpCopy:
	default:
		return usagef("--operation is protect, restore, verify, delete or copy, not %q", c.operation)
	}
	if err := s.loadConfig(); err != nil {
		return err
	}
	// Who asks matters only to protectable plugins that call OpenStack.
	s.rc.UserID, s.rc.ProjectID = s.g.userID, s.g.projectID
	_, plan, err := s.planFromFile(args[0])
	if err != nil {
		return err
	}
	if s.rc.ProjectID == "" {
		s.rc.ProjectID = plan.ProjectID
	}
	log := logrus.New()
	log.SetOutput(s.env.Stderr)
	log.SetLevel(logrus.WarnLevel)
	ctx = logctx.With(ctx, logrus.NewEntry(log))
	prot := protectables.Load(ctx, s.conf)
	compiled, err := providers.DescribeFlow(ctx, providers.Options{Dir: s.k.ProviderConfigDir, Environ: s.env.Environ, Service: s.conf},
		prot, &s.rc, op, plan, c.checkpointID, c.copyID)
	if err != nil {
		return err
	}
	var dot bytes.Buffer
	if err := compiled.WriteDOT(&dot); err != nil {
		return err
	}
	if c.dot == "-" {
		if _, err := s.env.Stdout.Write(dot.Bytes()); err != nil {
			return err
		}
	} else if err := os.WriteFile(c.dot, dot.Bytes(), 0o644); err != nil {
		return err
	}
	for _, out := range []struct{ format, path string }{{"svg", c.svg}, {"png", c.png}} {
		if out.path == "" {
			continue
		}
		if err := render(ctx, dot.Bytes(), out.format, out.path); err != nil {
			return err
		}
	}
	return nil
}

// errNoGraphviz is a drawing asked for without Graphviz installed.
var errNoGraphviz = errors.New("no Graphviz (dot) on the PATH: apt-get install graphviz; only the DOT was written")

func render(ctx context.Context, dot []byte, format, path string) error {
	bin, err := exec.LookPath("dot")
	if err != nil {
		return errNoGraphviz
	}
	cmd := exec.CommandContext(ctx, bin, "-T"+format, "-o", path)
	cmd.Stdin = bytes.NewReader(dot)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("dot -T%s: %w: %s", format, err, out)
	}
	return nil
}
